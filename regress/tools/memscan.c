/*
 * memscan: does a process's memory hold the device key's private
 * scalar?  Reads the P-256 key from a PEM file, then every readable
 * mapping of /proc/PID/mem (as root), looking for the 32-byte scalar in
 * big-endian order (as in DER and PEM) and in little-endian order (as
 * OpenSSL's BIGNUM limbs hold it on this machine).  With -s, the secret
 * is the content of the file instead (one line, 8 to 256 bytes without
 * its newline), such as a proxy's credentials.
 *
 *	memscan keyfile pid
 *	memscan -s secretfile pid
 *
 * Prints how many mappings and bytes it read and where it found a copy,
 * never the secret.  Exit 0: found; 1: not found; 2: error.
 */

#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#define CHUNK	(1024 * 1024)
#define PATMAX	256

int
main(int argc, char *argv[])
{
	FILE			*f;
	EVP_PKEY		*pk;
	BIGNUM			*priv = NULL;
	uint8_t			 pat[2][PATMAX], *buf;
	char			 path[64], line[512], perms[8], *pid;
	unsigned long long	 lo, hi, a, total = 0;
	size_t			 n, i, j, keep = 0, avail, plen, npat = 2;
	ssize_t			 r;
	int			 fd, maps = 0, found = 0;

	if (argc == 4 && strcmp(argv[1], "-s") == 0) {
		/* A secret as it is in the file, one line. */
		if ((f = fopen(argv[2], "r")) == NULL)
			err(2, "%s", argv[2]);
		plen = fread(pat[0], 1, sizeof(pat[0]), f);
		fclose(f);
		if (plen > 0 && pat[0][plen - 1] == '\n')
			plen--;
		if (plen < 8 || plen >= sizeof(pat[0]))
			errx(2, "%s: not a secret of 8 to %d bytes", argv[2],
			    PATMAX - 1);
		npat = 1;
		pid = argv[3];
	} else if (argc == 3) {
		if ((f = fopen(argv[1], "r")) == NULL ||
		    (pk = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
			errx(2, "%s: no private key", argv[1]);
		fclose(f);
		plen = 32;
		if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY,
		    &priv) != 1 || BN_bn2binpad(priv, pat[0], plen) !=
		    (int)plen)
			errx(2, "not an EC private key");
		BN_clear_free(priv);
		EVP_PKEY_free(pk);
		/* Big-endian first, then little-endian. */
		for (i = 0; i < plen; i++)
			pat[1][i] = pat[0][plen - 1 - i];
		pid = argv[2];
	} else
		errx(2, "usage: memscan keyfile pid | memscan -s secretfile "
		    "pid");

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	if ((f = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		err(2, "%s", path);
	if ((buf = malloc(CHUNK + PATMAX)) == NULL)
		err(2, NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%llx-%llx %4s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r')
			continue;
		/* The kernel's vsyscall page cannot be read this way. */
		if (strstr(line, "[vsyscall]") != NULL ||
		    strstr(line, "[vvar]") != NULL)
			continue;
		maps++;
		keep = 0;
		for (a = lo; a < hi; a += (size_t)r) {
			n = hi - a > CHUNK ? CHUNK : (size_t)(hi - a);
			if ((r = pread(fd, buf + keep, n, (off_t)a)) <= 0)
				break;
			total += (unsigned long long)r;
			avail = keep + (size_t)r;
			for (i = 0; i + plen <= avail; i++)
				for (j = 0; j < npat; j++)
					if (memcmp(buf + i, pat[j], plen) == 0) {
						printf("found a copy at 0x%llx "
						    "(%s)\n", a - keep + i,
						    npat == 1 ? "as in the file" :
						    j == 0 ? "big-endian" :
						    "little-endian");
						found++;
					}
			/* plen - 1 carried over: copies across chunks count. */
			keep = avail < plen - 1 ? avail : plen - 1;
			memmove(buf, buf + avail - keep, keep);
		}
	}
	fclose(f);
	close(fd);
	explicit_bzero(pat, sizeof(pat));
	explicit_bzero(buf, CHUNK + PATMAX);
	printf("read %d mappings, %llu bytes; %d cop%s of the secret\n", maps,
	    total, found, found == 1 ? "y" : "ies");
	if (maps == 0 || total == 0)
		return (2);
	return (found > 0 ? 0 : 1);
}
