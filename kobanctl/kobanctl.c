/*
 * kobanctl: query and control kobangd over its UNIX socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config_cmd.h"
#include "ctl.h"
#include "ctlrec.h"
#include "imsg.h"
#include "kobanctl.h"
#include "parser.h"
#include "vocab.h"

#define KOBANCTL_SOCKET		"/run/kobangd.sock"
#define KOBANCTL_TIMEOUT	10	/* seconds without a reply */

static void __dead
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-j] [-s socket] [-t seconds] command "
	    "[argument ...]\ncommands:\n", __progname);
	parser_usage();
	exit(2);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "socket path too long: %s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s (is kobangd running?)", path);
	return (fd);
}

/* Block for the next message, at most timeout seconds; EOF is an error. */
void
ctl_next(struct imsgbuf *ibuf, struct imsg *imsg, int timeout)
{
	struct pollfd	pfd;
	ssize_t		n;

	for (;;) {
		if ((n = imsg_get(ibuf, imsg)) == -1)
			errx(1, "malformed reply from kobangd");
		if (n > 0)
			return;
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		switch (poll(&pfd, 1, timeout * 1000)) {
		case -1:
			if (errno == EINTR)
				continue;
			err(1, "poll");
		case 0:
			errx(1, "no reply from kobangd within %d seconds",
			    timeout);
		}
		switch (imsgbuf_read(ibuf)) {
		case -1:
			if (errno != ECONNRESET)
				err(1, "read from kobangd");
			errx(1, "kobangd closed the connection before "
			    "answering");
		case 0:
			errx(1, "kobangd closed the connection before "
			    "answering");
		}
	}
}

/* Send what is queued; a peer that hung up is reported as such. */
void
ctl_send(struct imsgbuf *ibuf)
{
	if (imsgbuf_flush(ibuf) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			errx(1, "kobangd closed the connection before "
			    "answering");
		err(1, "send to kobangd");
	}
}

void __dead
ctl_daemon_error(struct imsg *imsg)
{
	char	msg[CTL_ERRLEN];

	if (imsg_get_strbuf(imsg, msg, sizeof(msg)) == -1)
		errx(1, "kobangd sent a malformed error");
	errx(1, "kobangd: %s", msg);
}

/* A request answered by IMSG_CTL_END alone (or an error). */
void
ctl_request_end(struct imsgbuf *ibuf, uint32_t type, const void *buf,
    size_t len, int timeout)
{
	struct imsg	imsg;

	if (imsg_compose(ibuf, type, 0, 0, -1, buf, len) == -1)
		err(1, "request");
	ctl_send(ibuf);
	ctl_next(ibuf, &imsg, timeout);
	if (imsg_get_type(&imsg) == IMSG_CTL_ERROR)
		ctl_daemon_error(&imsg);
	if (imsg_get_type(&imsg) != IMSG_CTL_END || imsg_get_len(&imsg) != 0)
		errx(1, "unexpected reply type %u", imsg_get_type(&imsg));
	imsg_free(&imsg);
}

/*
 * A request without payload answered by exactly one record of len bytes
 * of type reply, then IMSG_CTL_END; what names it in errors.
 */
void
ctl_request_one(struct imsgbuf *ibuf, uint32_t type, uint32_t reply,
    void *buf, size_t len, const char *what, int timeout)
{
	struct imsg	imsg;
	int		got = 0;

	if (imsg_compose(ibuf, type, 0, 0, -1, NULL, 0) == -1)
		err(1, "request");
	ctl_send(ibuf);
	for (;;) {
		ctl_next(ibuf, &imsg, timeout);
		if (imsg_get_type(&imsg) == IMSG_CTL_ERROR)
			ctl_daemon_error(&imsg);
		if (imsg_get_type(&imsg) == IMSG_CTL_END) {
			imsg_free(&imsg);
			if (!got)
				errx(1, "empty %s reply", what);
			return;
		}
		if (imsg_get_type(&imsg) != reply)
			errx(1, "unexpected reply type %u",
			    imsg_get_type(&imsg));
		if (got || imsg_get_data(&imsg, buf, len) == -1)
			errx(1, "malformed %s reply", what);
		got = 1;
		imsg_free(&imsg);
	}
}

/* Reload: the daemon answers once the file is applied or refused. */
int
ctl_reload(struct imsgbuf *ibuf, const struct output *out, int timeout)
{
	if (geteuid() != 0)
		errx(1, "reload: root only");
	ctl_request_end(ibuf, IMSG_CTL_RELOAD, NULL, 0, timeout);
	if (out == &output_json)
		printf("{\"reloaded\":true}\n");
	else
		printf("configuration reloaded\n");
	return (0);
}

static void
ctl_hello(struct imsgbuf *ibuf, int timeout)
{
	struct ctl_hello	hello;
	struct imsg		imsg;

	memset(&hello, 0, sizeof(hello));
	hello.protocol = CTL_PROTOCOL_VERSION;
	strlcpy(hello.version, KOBANGD_VERSION, sizeof(hello.version));
	if (imsg_compose(ibuf, IMSG_CTL_HELLO, 0, 0, -1, &hello,
	    sizeof(hello)) == -1)
		err(1, "hello");
	ctl_send(ibuf);
	ctl_next(ibuf, &imsg, timeout);
	if (imsg_get_type(&imsg) == IMSG_CTL_ERROR)
		ctl_daemon_error(&imsg);
	if (imsg_get_type(&imsg) != IMSG_CTL_HELLO ||
	    imsg_get_data(&imsg, &hello, sizeof(hello)) == -1)
		errx(1, "kobangd answered the hello with something else");
	if (hello.protocol != CTL_PROTOCOL_VERSION)
		errx(1, "kobangd speaks control protocol %u, kobanctl %u",
		    hello.protocol, CTL_PROTOCOL_VERSION);
	imsg_free(&imsg);
}

static void
show_status(struct imsgbuf *ibuf, const struct output *out, int timeout)
{
	struct ctl_status	 st;
	struct ctl_status_proc	 p;
	struct imsg		 imsg;
	int			 done = 0, seen_status = 0;

	if (imsg_compose(ibuf, IMSG_CTL_SHOW_STATUS, 0, 0, -1, NULL, 0) == -1)
		err(1, "request");
	ctl_send(ibuf);
	while (!done) {
		ctl_next(ibuf, &imsg, timeout);
		switch (imsg_get_type(&imsg)) {
		case IMSG_CTL_ERROR:
			ctl_daemon_error(&imsg);
		case IMSG_CTL_STATUS:
			if (imsg_get_data(&imsg, &st, sizeof(st)) == -1)
				errx(1, "malformed status reply");
			st.version[sizeof(st.version) - 1] = '\0';
			st.config_file[sizeof(st.config_file) - 1] = '\0';
			st.config_error[sizeof(st.config_error) - 1] = '\0';
			out->status(&st);
			seen_status = 1;
			break;
		case IMSG_CTL_STATUS_PROC:
			if (!seen_status ||
			    imsg_get_data(&imsg, &p, sizeof(p)) == -1)
				errx(1, "malformed status reply");
			p.name[sizeof(p.name) - 1] = '\0';
			p.absent[sizeof(p.absent) - 1] = '\0';
			out->status_proc(&p);
			break;
		case IMSG_CTL_END:
			done = 1;
			break;
		default:
			errx(1, "unexpected reply type %u",
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	out->end();
}

/* Decoders of the sensor's records: strict, see common/ctlrec.h. */
static void
rec_strs(struct imsg *imsg, void *hdr, size_t hdrlen, char **v[],
    const size_t caps[], size_t n)
{
	struct ctlrd	rd;
	size_t		i;

	if (ctlrd_init(&rd, imsg->data, imsg_get_len(imsg), hdr,
	    hdrlen) == -1)
		errx(1, "malformed reply from kobangd");
	for (i = 0; i < n; i++)
		if (ctlrd_str(&rd, caps[i], v[i]) == -1)
			errx(1, "malformed reply from kobangd");
	if (ctlrd_end(&rd) == -1)
		errx(1, "malformed reply from kobangd");
}

static void
ctl_read_item(struct imsg *imsg, struct ctl_item_rec *r)
{
	char		**v[] = { &r->name, &r->version, &r->path, &r->origin,
			    &r->detail, &r->id };
	const size_t	  caps[] = { CTL_STR_NAME, CTL_STR_VERSION,
			    CTL_STR_PATH, CTL_STR_TEXT, CTL_STR_TEXT,
			    CTL_STR_TEXT };

	rec_strs(imsg, &r->h, sizeof(r->h), v, caps, nitems(v));
	if (r->h.surface >= SURFACE_COUNT || r->h.kind >= KIND_COUNT ||
	    r->h.ior < -1 || r->h.ior > 1 || r->h.stale_ms < 0 ||
	    r->name == NULL ||
	    r->path == NULL || r->origin == NULL)
		errx(1, "malformed item from kobangd");
}

static void
ctl_read_event(struct imsg *imsg, struct ctl_event_rec *r)
{
	char		**v[] = { &r->item_id, &r->name, &r->path,
			    &r->old_version, &r->new_version, &r->detail };
	const size_t	  caps[] = { CTL_STR_TEXT, CTL_STR_NAME, CTL_STR_PATH,
			    CTL_STR_VERSION, CTL_STR_VERSION, CTL_STR_TEXT };

	rec_strs(imsg, &r->h, sizeof(r->h), v, caps, nitems(v));
	if (r->h.surface >= SURFACE_COUNT || r->h.kind >= CHANGE_COUNT ||
	    r->h.item_kind >= KIND_COUNT)
		errx(1, "malformed event from kobangd");
}

static void
ctl_read_finding(struct imsg *imsg, struct ctl_finding_rec *r)
{
	char		**v[] = { &r->id, &r->timestamp, &r->item_id,
			    &r->rule_id, &r->title, &r->rationale,
			    &r->item_name, &r->evidence_path,
			    &r->evidence_detail, &r->matched_field,
			    &r->matched_value };
	const size_t	  caps[] = { CTL_STR_TEXT, CTL_STR_TEXT, CTL_STR_TEXT,
			    CTL_STR_TEXT, CTL_STR_TEXT, CTL_STR_TEXT,
			    CTL_STR_NAME, CTL_STR_PATH, CTL_STR_TEXT,
			    CTL_STR_TEXT, CTL_STR_TEXT };

	rec_strs(imsg, &r->h, sizeof(r->h), v, caps, nitems(v));
	if (r->h.surface >= SURFACE_COUNT || r->h.severity >= SEVERITY_COUNT)
		errx(1, "malformed finding from kobangd");
}

static void
free_strs(char **v[], size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(*v[i]);
		*v[i] = NULL;
	}
}

/* show inventory / events / findings / surfaces, scan. */
static void
sensor_request(struct imsgbuf *ibuf, const struct output *out,
    const struct parse_result *res, int timeout)
{
	struct ctl_show_inventory	 inv;
	struct ctl_show_findings	 sf;
	struct ctl_scan			 sc;
	struct ctl_surface		 cs;
	struct ctl_scan_queued		 q;
	struct ctl_item_rec		 it;
	struct ctl_event_rec		 ev;
	struct ctl_finding_rec		 fi;
	struct ctl_issue_rec		 is;
	struct imsg			 imsg;
	uint32_t			 type, want = 0;
	const void			*p = NULL;
	size_t				 len = 0;
	int				 done = 0, have_surface = 0;
	uint32_t			 cur_surface = 0;

	switch (res->action) {
	case SHOW_INVENTORY:
		memset(&inv, 0, sizeof(inv));
		inv.surface = res->surface;
		if (res->user != NULL && strlcpy(inv.user, res->user,
		    sizeof(inv.user)) >= sizeof(inv.user))
			errx(1, "user name too long: %s", res->user);
		type = IMSG_CTL_SHOW_INVENTORY;
		want = IMSG_CTL_ITEM;
		p = &inv;
		len = sizeof(inv);
		break;
	case SHOW_EVENTS:
		type = IMSG_CTL_SHOW_EVENTS;
		want = IMSG_CTL_EVENT;
		break;
	case SHOW_FINDINGS:
		sf.min_severity = res->severity;
		type = IMSG_CTL_SHOW_FINDINGS;
		want = IMSG_CTL_FINDING;
		p = &sf;
		len = sizeof(sf);
		break;
	case SHOW_SURFACES:
		type = IMSG_CTL_SHOW_SURFACES;
		want = IMSG_CTL_SURFACE;
		break;
	case SCAN:
	default:
		sc.surface = res->surface;
		type = IMSG_CTL_SCAN;
		want = IMSG_CTL_SCAN_QUEUED;
		p = &sc;
		len = sizeof(sc);
		break;
	}
	if (imsg_compose(ibuf, type, 0, 0, -1, p, len) == -1)
		err(1, "request");
	ctl_send(ibuf);
	out->list_begin(res->action);
	memset(&it, 0, sizeof(it));
	memset(&ev, 0, sizeof(ev));
	memset(&fi, 0, sizeof(fi));
	memset(&is, 0, sizeof(is));
	while (!done) {
		ctl_next(ibuf, &imsg, timeout);
		type = imsg_get_type(&imsg);
		if (type == IMSG_CTL_ERROR)
			ctl_daemon_error(&imsg);
		if (type == IMSG_CTL_END) {
			done = 1;
		} else if (type == IMSG_CTL_SURFACE_ISSUE &&
		    want == IMSG_CTL_SURFACE) {
			char	**v[] = { &is.path, &is.reason };
			const size_t caps[] = { CTL_STR_PATH, CTL_STR_TEXT };

			rec_strs(&imsg, &is.h, sizeof(is.h), v, caps,
			    nitems(v));
			if (!have_surface || is.h.surface != cur_surface ||
			    is.path == NULL || is.reason == NULL)
				errx(1, "malformed issue from kobangd");
			out->surface_issue(&is);
			free_strs(v, nitems(v));
		} else if (type != want) {
			errx(1, "unexpected reply type %u", type);
		} else if (type == IMSG_CTL_ITEM) {
			char	**v[] = { &it.name, &it.version, &it.path,
				    &it.origin, &it.detail, &it.id };

			ctl_read_item(&imsg, &it);
			out->item(&it);
			free_strs(v, nitems(v));
		} else if (type == IMSG_CTL_EVENT) {
			char	**v[] = { &ev.item_id, &ev.name, &ev.path,
				    &ev.old_version, &ev.new_version,
				    &ev.detail };

			ctl_read_event(&imsg, &ev);
			out->event(&ev);
			free_strs(v, nitems(v));
		} else if (type == IMSG_CTL_FINDING) {
			char	**v[] = { &fi.id, &fi.timestamp, &fi.item_id,
				    &fi.rule_id, &fi.title, &fi.rationale,
				    &fi.item_name, &fi.evidence_path,
				    &fi.evidence_detail, &fi.matched_field,
				    &fi.matched_value };

			ctl_read_finding(&imsg, &fi);
			out->finding(&fi);
			free_strs(v, nitems(v));
		} else if (type == IMSG_CTL_SURFACE) {
			if (imsg_get_data(&imsg, &cs, sizeof(cs)) == -1 ||
			    cs.surface >= SURFACE_COUNT ||
			    cs.health >= CTL_HEALTH_COUNT)
				errx(1, "malformed surface from kobangd");
			cs.message[sizeof(cs.message) - 1] = '\0';
			cs.watch_message[sizeof(cs.watch_message) - 1] = '\0';
			have_surface = 1;
			cur_surface = cs.surface;
			out->surface(&cs);
		} else if (type == IMSG_CTL_SCAN_QUEUED) {
			if (imsg_get_data(&imsg, &q, sizeof(q)) == -1)
				errx(1, "malformed reply from kobangd");
			out->scan_queued(&q);
		}
		imsg_free(&imsg);
	}
	out->list_end(res->action);
}

int
main(int argc, char *argv[])
{
	const struct parse_result	*res;
	const struct output		*out = &output_human;
	struct imsgbuf			 ibuf;
	const char			*sockpath = KOBANCTL_SOCKET, *errstr;
	int				 ch, timeout = KOBANCTL_TIMEOUT;
	int				 rv = 0;

	if (getenv("KOBANGD_SOCKET") != NULL)
		sockpath = getenv("KOBANGD_SOCKET");
	while ((ch = getopt(argc, argv, "+js:t:")) != -1) {
		switch (ch) {
		case 'j':
			out = &output_json;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 't':
			timeout = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(2, "timeout %s: %s", optarg, errstr);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		usage();
	if ((res = parse(argc, argv)) == NULL)
		exit(2);

	signal(SIGPIPE, SIG_IGN);

	/* Offline commands: no daemon needed. */
	switch (res->action) {
	case NONE:
		usage();
	case CONFIG_CHECK:
		return (ctl_config_check(res->file));
	case CONFIG_CANON:
		return (ctl_config_canon(res->file));
	default:
		break;
	}

	if (imsgbuf_init(&ibuf, ctl_connect(sockpath)) == -1)
		err(1, "imsgbuf_init");
	ctl_hello(&ibuf, timeout);

	switch (res->action) {
	case SHOW_STATUS:
		show_status(&ibuf, out, timeout);
		break;
	case SHOW_INVENTORY:
	case SHOW_EVENTS:
	case SHOW_FINDINGS:
	case SHOW_SURFACES:
	case SCAN:
		sensor_request(&ibuf, out, res, timeout);
		break;
	case SHOW_IDENTITY:
		ctl_show_identity(&ibuf, out, timeout);
		break;
	case ENROLL:
		/* A request and a TLS exchange: up to a minute. */
		rv = ctl_enroll(&ibuf, out, timeout > 60 ? timeout : 60);
		break;
	case CHECKIN:
		rv = ctl_checkin(&ibuf, timeout > 60 ? timeout : 60);
		break;
	case SHOW_SYNC:
		ctl_show_sync(&ibuf, out, timeout);
		break;
	case SYNC:
		rv = ctl_sync(&ibuf, out, timeout > 60 ? timeout : 60);
		break;
	case RELOAD:
		rv = ctl_reload(&ibuf, out, timeout);
		break;
	default:
		usage();
	}
	imsgbuf_clear(&ibuf);
	close(ibuf.fd);
	return (rv);
}
