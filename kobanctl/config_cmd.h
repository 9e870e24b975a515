/*
 * kobanctl config check FILE / config canon FILE: offline, no daemon.
 * Each returns the exit code (0 or 1) after printing its result.
 */
#ifndef KOBANCTL_CONFIG_CMD_H
#define KOBANCTL_CONFIG_CMD_H

int	ctl_config_check(const char *path);
int	ctl_config_canon(const char *path);

#endif
