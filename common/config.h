/*
 * config — cairn's options: one table, ini files, command-line overrides.
 *
 * Every option is declared once, in common/options/<module>.def (X-macro lines: name, type,
 * default, min, max, description; common/options/all.def includes them all). A file is read
 * with inih; sections apply in order of increasing precedence: [global], [TYPE]
 * (mon/osd/mds/client), [TYPE.ID]; then "--name value" (or --name=value) arguments override.
 * Within one level the last assignment wins. Sections of other entities ([osd.4] when loading
 * osd.3) are validated but not applied. Option names may be written with '-' or ' ' for '_'
 * ("log-level", "mon host"). Keys may be indented; a value is one line; lines starting with
 * ';' or '#' are comments, as is " ;..." after a value; a line holds at most 197 characters.
 * Keys before any section belong to [global]. Unknown options, unknown sections and bad
 * values are errors naming the file, line and option. docs/config.md is generated from the
 * table (cairn-config --doc) and a test checks they agree.
 *
 * Values: INT and SIZE are int64 (SIZE accepts K/M/G/T suffixes, powers of 1024, never
 * negative); DOUBLE is finite; BOOL accepts true/false, yes/no, on/off, 1/0; STR is copied.
 * min/max ("" for none) bound INT, SIZE and DOUBLE.
 *
 * A loaded struct cairn_conf is immutable to its users except through conf_set(); getters
 * may be called from any thread as long as nobody calls conf_set() concurrently.
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
 * hold only the arguments the config did not consume (argv[0] stays; argv[*argc] = NULL).
 * argc/argv may be NULL; "--" ends option scanning (it and what follows stay). A value may
 * not start with "--" (so a forgotten value never swallows the next option). A BOOL option
 * given as a bare "--name" (next argument absent, another --option, or not a boolean) is set
 * to true. On error returns -EINVAL with a one-line message in err
 * ("cairn.conf:12: unknown option 'osd_foo'"), -ENOENT/-EACCES/... when the file cannot be
 * read, -ENOMEM; *out is NULL and argv is unchanged.
 */
int conf_load(struct cairn_conf **out, const char *path, const char *type, const char *id,
	      int *argc, char **argv, char *err, size_t errlen);
/* Empty config: only defaults. NULL on allocation failure. */
struct cairn_conf *conf_defaults(void);
void conf_free(struct cairn_conf *c);
/* Set one option by name from a string (same validation as the file). -EINVAL (message in
 * err naming the option), -ENOMEM; c is unchanged on error. */
int conf_set(struct cairn_conf *c, const char *name, const char *value, char *err, size_t errlen);

/* Typed getters; name must be declared in the table with a matching type (abort()
 * otherwise: a programming bug). conf_int reads INT and SIZE options.
 * c may be NULL: the default is returned. conf_str never returns NULL; the string lives as
 * long as c (or forever for defaults). A lookup is a binary search over the names (~100 ns):
 * read options once at start into your own struct, not per operation on a hot path. */
int64_t conf_int(const struct cairn_conf *c, const char *name);
double conf_double(const struct cairn_conf *c, const char *name);
bool conf_bool(const struct cairn_conf *c, const char *name);
const char *conf_str(const struct cairn_conf *c, const char *name);
const char *conf_path(const struct cairn_conf *c); /* file it was loaded from, or NULL */

/* Table introspection (cairn-config, tests). Indexes are in table order (all.def order). */
struct conf_opt_info {
	const char *name;
	const char *type; /* "INT", "DOUBLE", "BOOL", "STR", "SIZE" */
	const char *def, *min, *max, *desc;
	const char *file; /* "osd.def" */
};
size_t conf_opt_count(void);
const struct conf_opt_info *conf_opt(size_t i);		 /* NULL if i is out of range */
const struct conf_opt_info *conf_find(const char *name); /* NULL if unknown; '-' == '_' */
/* The effective value of option name formatted as a string into out[len] (the inverse of
 * conf_set: INT/SIZE decimal, DOUBLE shortest exact of %.15g/%.17g, BOOL true/false). -ENOENT if
 * unknown, -ENOSPC if truncated. */
int conf_format(const struct cairn_conf *c, const char *name, char *out, size_t len);

#endif
