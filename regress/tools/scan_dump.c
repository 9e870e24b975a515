/*
 * scan_dump PARSER [FLAGS] FILE: run one scan parser over FILE in
 * memory and print the golden rendering (regress/unit/scan_golden.h).
 * Used to write regress/scan/NAME.ok; review a new .ok by hand.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../unit/scan_golden.h"

int
main(int argc, char *argv[])
{
	struct stat	 st;
	char		*doc, *out;
	ssize_t		 n;
	int		 fd, p, flags = 0;

	if (argc != 3 && argc != 4)
		errx(2, "usage: scan_dump parser [flags] file");
	if ((p = golden_parser(argv[1])) == -1)
		errx(2, "unknown parser %s", argv[1]);
	if (argc == 4)
		flags = atoi(argv[2]);
	if ((fd = open(argv[argc - 1], O_RDONLY)) == -1 ||
	    fstat(fd, &st) == -1)
		err(1, "%s", argv[argc - 1]);
	if ((doc = malloc(st.st_size + 1)) == NULL)
		err(1, NULL);
	if ((n = read(fd, doc, st.st_size)) != st.st_size)
		err(1, "read");
	if ((out = golden_run(p, flags, doc, (size_t)n)) == NULL)
		err(1, "golden_run");
	fputs(out, stdout);
	free(out);
	free(doc);
	return (0);
}
