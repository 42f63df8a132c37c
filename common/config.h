/*
 * config — cairn's options: one table, ini files, command-line overrides.
 *
 * Every option is declared once, in common/options/*.def (X-macro lines: name, type,
 * default, min, max, description). A file is read with inih; sections apply in order of
 * increasing precedence: [global], [TYPE] (mon/osd/mds/client), [TYPE.ID]; then
 * "--name value" (or --name=value) arguments override. Unknown options and bad values are
 * errors naming the file, line and option. docs/config.md is generated from the table
 * (cairn-config --doc) and a test checks they agree.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cairn_conf;

/*
 * Builds a config for entity type ("mon", "osd", "mds", "client") and id ("3", "a", or NULL):
 * defaults, then the file at path (NULL: none), then argv overrides. argv options that are
 * not config options (--mkfs, --id ...) are left for the caller: *argc/argv are compacted to
 * hold only the arguments the config did not consume (argv[0] stays). On error returns
 * -EINVAL with a one-line message in err ("cairn.conf:12: unknown option 'osd_foo'").
 */
int conf_load(struct cairn_conf **out, const char *path, const char *type, const char *id,
	      int *argc, char **argv, char *err, size_t errlen);
/* Empty config: only defaults. */
struct cairn_conf *conf_defaults(void);
void conf_free(struct cairn_conf *c);
/* Set one option by name from a string (same validation as the file). */
int conf_set(struct cairn_conf *c, const char *name, const char *value, char *err, size_t errlen);

/* Typed getters; name must be declared in the table (abort() otherwise: a programming bug).
 * c may be NULL: the default is returned. */
int64_t conf_int(const struct cairn_conf *c, const char *name);
double conf_double(const struct cairn_conf *c, const char *name);
bool conf_bool(const struct cairn_conf *c, const char *name);
const char *conf_str(const struct cairn_conf *c, const char *name);
/* Free-form keys in the file that are not options but cluster layout, e.g. [osd.3] addr:
 * "mon_host" is an option; these return NULL when absent. */
const char *conf_path(const struct cairn_conf *c); /* file it was loaded from, or NULL */

#endif
