/*
 * The parent's side of the MCP redaction key (scan_redact.h): a random
 * key of the installation, kept in <stateDirectory>/redact.key (root's,
 * 0600, 32 raw bytes), created at the first start, and handed to every
 * scan child as IMSG_SCAN_KEY before any file.  It must outlive
 * restarts: a new key changes every marker, and every MCP server with a
 * hidden value would read as modified.  The key is never logged.
 */
#ifndef KOBANGD_SCANKEY_H
#define KOBANGD_SCANKEY_H

#include <stddef.h>
#include <stdint.h>

#include "imsg.h"

#define SCANKEY_FILE	"redact.key"

/*
 * Read the key from dir, or create it there; 0, or -1 with a message
 * (then key holds nothing of use).
 */
int	 scankey_load(const char *, uint8_t *, size_t, char *, size_t);

/*
 * Queue IMSG_SCAN_KEY on a new scan child's channel.  The key is loaded
 * once per parent; if it cannot be kept, a key for this run only is used
 * and that is logged once.  0, or -1 (the message could not be queued).
 */
int	 scankey_send(const char *, struct imsgbuf *);

#endif
