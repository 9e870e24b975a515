/*
 * Random version 4 UUIDs as Foundation prints them (PROTOCOL.md 3.4):
 * 36 characters, uppercase hex, hyphenated 8-4-4-4-12.
 *
 * Whoever needs ids takes a struct idsource, so tests can hand in a
 * deterministic one; uuid_random_source() is the real one.
 */
#ifndef KOBANG_UUID_H
#define KOBANG_UUID_H

#include <stdint.h>

#define UUID_STRLEN	36
#define UUID_BUFSZ	(UUID_STRLEN + 1)

struct idsource {
	/* Write a NUL-terminated UUID string; 0 on success, -1 on error. */
	int	(*next)(void *, char [UUID_BUFSZ]);
	void	*arg;
};

/* Set the version 4 and RFC 4122 variant bits in b and print it. */
void	 uuid_format(uint8_t [16], char [UUID_BUFSZ]);
/* A fresh random UUID from getrandom(2); -1 with errno on failure. */
int	 uuid_v4(char [UUID_BUFSZ]);
/* n fresh random UUIDs, n <= UUID_MANY; -1 with errno on failure. */
#define UUID_MANY	64
int	 uuid_v4_many(char [][UUID_BUFSZ], size_t);
/* The idsource backed by uuid_v4(). */
const struct idsource	*uuid_random_source(void);
/* Next id from src; -1 if it fails or returns a malformed id. */
int	 idsource_next(const struct idsource *, char [UUID_BUFSZ]);
/* 1 if s is a well-formed uppercase version 4 UUID string. */
int	 uuid_valid_v4(const char *);

#endif
