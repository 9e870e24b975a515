/*
 * The remote configuration: fetch, validate, store, lay over the local
 * file (PROTOCOL.md 5, spec/README.md).  Parent only.
 */
#ifndef RCONFIG_H
#define RCONFIG_H

struct config;
struct ctl_sync;
struct kobangd;

/* Load the stored bundle and lay it over kd->conf; before sensor_init. */
void	rconfig_init(struct kobangd *);
void	rconfig_shutdown(struct kobangd *);
/* Ask the server (when enrolled); 0 queued or already out, -1 not. */
int	rconfig_fetch(struct kobangd *);
/* The accepted bundle over conf (watch, rules, batch limits). */
void	rconfig_overlay(struct kobangd *, struct config *);
void	rconfig_transport_reset(void);
void	rconfig_status(struct ctl_sync *);

#endif
