/*
 * memscan: does a process's memory hold the device key's private
 * scalar?  Reads the P-256 key from a PEM file, then every readable
 * mapping of /proc/PID/mem (as root), looking for the 32-byte scalar in
 * big-endian order (as in DER and PEM) and in little-endian order (as
 * OpenSSL's BIGNUM limbs hold it on this machine).
 *
 *	memscan keyfile pid
 *
 * Prints how many mappings and bytes it read and where it found a copy,
 * never the scalar.  Exit 0: found; 1: not found; 2: error.
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

int
main(int argc, char *argv[])
{
	FILE			*f;
	EVP_PKEY		*pk;
	BIGNUM			*priv = NULL;
	uint8_t			 be[32], le[32], *buf;
	char			 path[64], line[512], perms[8];
	unsigned long long	 lo, hi, a, total = 0;
	size_t			 n, i, keep = 0, avail;
	ssize_t			 r;
	int			 fd, maps = 0, found = 0;

	if (argc != 3)
		errx(2, "usage: memscan keyfile pid");
	if ((f = fopen(argv[1], "r")) == NULL ||
	    (pk = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		errx(2, "%s: no private key", argv[1]);
	fclose(f);
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 ||
	    BN_bn2binpad(priv, be, sizeof(be)) != sizeof(be))
		errx(2, "not an EC private key");
	BN_clear_free(priv);
	EVP_PKEY_free(pk);
	for (i = 0; i < 32; i++)
		le[i] = be[31 - i];

	snprintf(path, sizeof(path), "/proc/%s/maps", argv[2]);
	if ((f = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[2]);
	if ((fd = open(path, O_RDONLY)) == -1)
		err(2, "%s", path);
	if ((buf = malloc(CHUNK + 32)) == NULL)
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
			for (i = 0; i + 32 <= avail; i++)
				if (memcmp(buf + i, be, 32) == 0 ||
				    memcmp(buf + i, le, 32) == 0) {
					printf("found a copy at 0x%llx (%s)\n",
					    a - keep + i, memcmp(buf + i, be,
					    32) == 0 ? "big-endian" :
					    "little-endian");
					found++;
				}
			/* 31 bytes carried over: copies across chunks count. */
			keep = avail < 31 ? avail : 31;
			memmove(buf, buf + avail - keep, keep);
		}
	}
	fclose(f);
	close(fd);
	explicit_bzero(be, sizeof(be));
	explicit_bzero(le, sizeof(le));
	printf("read %d mappings, %llu bytes; %d cop%s of the scalar\n", maps,
	    total, found, found == 1 ? "y" : "ies");
	if (maps == 0 || total == 0)
		return (2);
	return (found > 0 ? 0 : 1);
}
