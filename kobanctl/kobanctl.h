/*
 * kobanctl's output backends: one for people, one for programs (-j).
 */
#ifndef KOBANCTL_H
#define KOBANCTL_H

#include "ctl.h"

/* The sensor's records, decoded (strings NULL for nil). */
struct ctl_item_rec {
	struct ctl_item_hdr	 h;
	char			*name, *version, *path, *origin, *detail, *id;
};

struct ctl_event_rec {
	struct ctl_event_hdr	 h;
	char			*item_id, *name, *path, *old_version;
	char			*new_version, *detail;
};

struct ctl_finding_rec {
	struct ctl_finding_hdr	 h;
	char			*id, *timestamp, *item_id, *rule_id, *title;
	char			*rationale, *item_name, *evidence_path;
	char			*evidence_detail, *matched_field;
	char			*matched_value;
};

struct ctl_issue_rec {
	struct ctl_issue_hdr	 h;
	char			*path, *reason;
};

struct output {
	void	(*status)(const struct ctl_status *);
	void	(*status_proc)(const struct ctl_status_proc *);
	void	(*end)(void);
	/* Sensor replies: list_begin, records, list_end. */
	void	(*list_begin)(int);		/* enum actions */
	void	(*item)(const struct ctl_item_rec *);
	void	(*event)(const struct ctl_event_rec *);
	void	(*finding)(const struct ctl_finding_rec *);
	void	(*surface)(const struct ctl_surface *);
	void	(*surface_issue)(const struct ctl_issue_rec *);
	void	(*scan_queued)(const struct ctl_scan_queued *);
	void	(*list_end)(int);
	void	(*identity)(const struct ctl_identity *);
	void	(*sync)(const struct ctl_sync *);
};

extern const struct output	output_human;
extern const struct output	output_json;

/* kobanctl.c: the request and reply loop. */
struct imsg;
struct imsgbuf;
void	ctl_next(struct imsgbuf *, struct imsg *, int);
void	ctl_send(struct imsgbuf *);
void	ctl_daemon_error(struct imsg *) __attribute__((__noreturn__));
void	ctl_request_end(struct imsgbuf *, uint32_t, const void *, size_t, int);
void	ctl_request_one(struct imsgbuf *, uint32_t, uint32_t, void *, size_t,
	    const char *, int);

/* identity.c: show identity, enroll, check-in. */
void	identity_human(const struct ctl_identity *);
void	identity_json(const struct ctl_identity *);
void	ctl_show_identity(struct imsgbuf *, const struct output *, int);
int	ctl_enroll(struct imsgbuf *, const struct output *, int);
int	ctl_checkin(struct imsgbuf *, int);
/* kobanctl.c: reload. */
int	ctl_reload(struct imsgbuf *, const struct output *, int);

/* syncctl.c: show sync, sync. */
void	fmt_when(int64_t, char *, size_t);	/* epoch -> UTC, "-" for 0 */
void	sync_human(const struct ctl_sync *);
void	sync_json(const struct ctl_sync *);
void	ctl_show_sync(struct imsgbuf *, const struct output *, int);
int	ctl_sync(struct imsgbuf *, const struct output *, int);

#endif
