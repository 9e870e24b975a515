/*
 * kobangd: the parent's state and every message type that crosses the
 * boundary between the parent and its children.  The table with payload
 * layouts and receive-side checks is privsep/PROTOCOL.md.
 */
#ifndef KOBANGD_H
#define KOBANGD_H

#include <sys/types.h>

#include <limits.h>
#include <poll.h>
#include <stdint.h>

#include "event.h"
#include "imsg.h"
#include "proc.h"
#include "sandbox.h"

#define KOBANGD_CONFIG		"/etc/koban/kobangd.yaml"
#define KOBANGD_MAXCLIENTS	32
/*
 * The control socket's limits, so that no local user can lock root out:
 * at most this many connections per uid other than root, and this many
 * slots only root may take; a client must say hello within
 * KOBANGD_CTL_HELLO_MS and is dropped after KOBANGD_CTL_IDLE_MS without
 * a request or a byte of its replies read; a client whose replies pile
 * up beyond KOBANGD_CTL_QUEUE_MAX messages is dropped, and none is read
 * from while its replies are still queued.
 */
#define KOBANGD_CTL_PER_UID	4
#define KOBANGD_CTL_ROOT_SLOTS	4
#define KOBANGD_CTL_HELLO_MS	5000
#define KOBANGD_CTL_IDLE_MS	30000
#define KOBANGD_CTL_QUEUE_MAX	512

/* Parent <-> child messages.  Control messages are in common/ctl.h. */
enum imsg_type {
	IMSG_NONE,
	IMSG_CHILD_HELLO,	/* child -> parent, once: struct child_hello */
	/* The scan protocol: kobangd/scanproto.h. */
	IMSG_SCAN_FILE,		/* parent -> scan: struct scan_file + fd */
	IMSG_SCAN_ITEMS,	/* scan -> parent: a batch of items */
	IMSG_SCAN_ISSUE,	/* scan -> parent: struct scan_issue_msg */
	IMSG_SCAN_FILE_DONE,	/* scan -> parent: struct scan_file_done */
	/* The transport: kobangd/netproto.h. */
	IMSG_DNS_QUERY,		/* parent -> dns: struct dns_query */
	IMSG_DNS_ANSWER,	/* dns -> parent: struct dns_answer */
	IMSG_NET_CA_BEGIN,	/* parent -> net: struct net_ca_begin */
	IMSG_NET_CA_DATA,	/* parent -> net: CA bundle bytes */
	IMSG_NET_CERT,		/* parent -> net: client certificate PEM */
	IMSG_NET_CONNECT,	/* parent -> net: struct net_connect + fd */
	IMSG_NET_REQUEST,	/* parent -> net: struct net_request */
	IMSG_NET_REQUEST_BODY,	/* parent -> net: request body bytes */
	IMSG_NET_RESPONSE,	/* net -> parent: struct net_response */
	IMSG_NET_RESPONSE_BODY,	/* net -> parent: response body bytes */
	IMSG_NET_SIGN,		/* net -> parent: struct net_sign */
	IMSG_NET_SIGNATURE,	/* parent -> net: struct net_signature */
	IMSG_NET_CLOSED,	/* net -> parent: struct net_closed */
	IMSG_NET_CERT_INSPECT,	/* parent -> net: id + certificate DER */
	IMSG_NET_CERT_INFO,	/* net -> parent: struct net_cert_info */
	IMSG_SCAN_INCLUDE,	/* scan -> parent: struct scan_include_msg */
	IMSG_DNS_SERVER,	/* parent -> dns: struct dns_server + socket */
	IMSG_SCAN_KEY,		/* parent -> scan: struct scan_key */
};

/* What a child reports after sandboxing itself. */
struct child_hello {
	uint32_t		role;	/* enum sandbox_role; must match */
	int32_t			uid;	/* getuid() after the drop */
	struct sandbox_layers	layers;
};

enum child_id {
	CHILD_NET,
	CHILD_SCAN,
	CHILD_DNS,
	CHILD_COUNT
};

struct kobangd;
struct child;

/* Handles a child's messages other than the hello; -1 breaks the channel. */
typedef int	(*child_dispatch_fn)(struct kobangd *, struct child *,
		    struct imsg *);

struct child {
	struct kobangd		*kd;
	const char		*name;
	enum sandbox_role	 role;
	pid_t			 pid;		/* 0: not running */
	int			 channel_open;
	struct imsgbuf		 ibuf;
	struct proc_backoff	 backoff;
	struct ev_timer		 restart_timer;
	child_dispatch_fn	 dispatch;
	int			 hello;		/* hello received */
	struct child_hello	 report;
	uint64_t		 mem_rss_kb;	/* last VmRSS seen (selflimits.c) */
	uint32_t		 mem_restarts;	/* killed over the memory cap */
	/*
	 * net and dns run only while sync is on (parent_children_sync):
	 * wanted says whether this child should run, stopping that it was
	 * told to go and its exit is no crash, absent why it is not
	 * running when it is not wanted.
	 */
	int			 wanted;
	int			 stopping;
	char			 absent[128];
};

struct config;

struct kobangd {
	struct config		*conf;		/* in force; replaced by a reload */
	const char		*conffile;
	int			 conf_named;	/* -f: the file must exist */
	struct child		 children[CHILD_COUNT];
	char			 self[PATH_MAX];	/* our binary */
	char			 image[CHILD_COUNT][PATH_MAX];	/* children's */
	const char		*user;
	const char		*sockpath;
	int			 debug;
	int			 verbose;
	time_t			 started;		/* monotonic */
	pid_t			 pid;
	int			 quit;
};

/* kobangd.c: the parent */
void	parent_main(struct kobangd *);
void	parent_init_children(struct kobangd *);
int	parent_find_images(struct kobangd *, char *, size_t);
int	parent_start_child(struct kobangd *, struct child *);
int	parent_dispatch_child(struct kobangd *, struct child *);
void	parent_child_io(struct kobangd *, struct child *, short);
void	parent_child_broken(struct kobangd *, struct child *, const char *);
void	parent_child_exited(struct kobangd *, pid_t, int);
void	parent_stop_children(struct kobangd *);
void	parent_children_sync(struct kobangd *, int, const char *);

/* control.c: the control socket, in the parent */
int	control_listen(struct kobangd *, const char *);
void	control_cleanup(const char *);

/* child.c: what every child does before its own work */
void	child_setup(const char *, enum sandbox_role, const char *,
	    struct imsgbuf *);
void	child_loop(struct imsgbuf *, int (*)(struct imsgbuf *));
int	child_parent_gone(struct imsgbuf *);
void	child_channel_failed(struct imsgbuf *, const char *)
	    __attribute__((__noreturn__));

/* net.c, scan.c, dns.c: the children */
void	net_main(const char *);
void	scan_main(const char *);
void	dns_main(const char *);

#endif
