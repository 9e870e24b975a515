/*
 * A token that crossed an imsg channel (kobanctl enroll's, the enroll
 * body to net) must not outlive its use in freed memory: every buffer
 * imsg frees is wiped first.  free() is interposed in this test binary;
 * while a test watches, each block freed is searched for the token.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <criterion/criterion.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

/* The sanitizers own free(): this test cannot interpose it there. */
#if defined(__SANITIZE_ADDRESS__)
#define WIPE_NO_INTERPOSE	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WIPE_NO_INTERPOSE	1
#endif
#endif

#ifdef WIPE_NO_INTERPOSE
Test(imsg_wipe, not_under_sanitizers)
{
	cr_skip_test("free() cannot be interposed under AddressSanitizer");
}
#else

void	__libc_free(void *);
void	free(void *);

static const char	 token[] = "kobatk-enroll-token-7c1d9e2b4a60f3";
static volatile int	 watching;
static volatile int	 leaked;

void
free(void *p)
{
	size_t	n;

	if (watching && p != NULL && (n = malloc_usable_size(p)) > 0 &&
	    memmem(p, n, token, sizeof(token) - 1) != NULL)
		leaked++;
	__libc_free(p);
}

Test(imsg_wipe, token_not_left_in_freed_buffers)
{
	struct imsgbuf	w, r;
	struct imsg	imsg;
	char		got[128];
	int		sv[2], i;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(imsgbuf_init(&w, sv[0]), 0);
	cr_assert_eq(imsgbuf_init(&r, sv[1]), 0);
	watching = 1;
	/* A few, so that one is framed while others wait in the buffer. */
	for (i = 0; i < 3; i++)
		cr_assert_eq(imsg_compose(&w, 1000 + i, 0, 0, -1, token,
		    sizeof(token)), 1);
	cr_assert_eq(imsgbuf_flush(&w), 0);
	cr_assert_eq(imsgbuf_read(&r), 1);
	for (i = 0; i < 3; i++) {
		cr_assert_gt(imsg_get(&r, &imsg), 0);
		cr_assert_eq(imsg_get_strbuf(&imsg, got, sizeof(got)), 0);
		cr_assert_str_eq(got, token);
		explicit_bzero(got, sizeof(got));
		imsg_free(&imsg);
	}
	imsgbuf_clear(&w);
	imsgbuf_clear(&r);
	watching = 0;
	close(sv[0]);
	close(sv[1]);
	cr_assert_eq(leaked, 0, "%d freed buffers still held the token",
	    leaked);
}

/* The watch itself works: a plain free() of the token is seen. */
Test(imsg_wipe, watch_sees_a_plain_free)
{
	char	*p;

	cr_assert_not_null(p = malloc(sizeof(token)));
	memcpy(p, token, sizeof(token));
	/* Else the copy is a dead store before free() and goes. */
	__asm__ volatile("" : : "r"(p) : "memory");
	watching = 1;
	free(p);
	watching = 0;
	cr_assert_eq(leaked, 1);
}
#endif
