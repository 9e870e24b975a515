/*
 * Reloading the configuration: SIGHUP, kobanctl reload, a new remote
 * bundle.  Parent only.
 */
#ifndef RELOAD_H
#define RELOAD_H

struct ctl_status;
struct kobangd;

void	reload_init(struct kobangd *);
/*
 * Read the file again, lay the remote bundle over it and apply it; on
 * failure the running configuration stays and err says why.  0 or -1.
 */
int	reload_config(struct kobangd *, const char *why, char *err,
	    size_t errlen);
void	reload_status(struct ctl_status *);
void	reload_shutdown(void);

#endif
