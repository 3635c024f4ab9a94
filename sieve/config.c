/* config.c: the engine's settings, a flat key -> value map using
 * Pigeonhole's setting names (sieve_max_actions, recipient_delimiter, ...),
 * so that the testsuite's test_config_set and an admin's config file speak
 * the same language.  Typed getters parse sizes and durations. */
#include "sieve/sieve.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sieve_config {
	char **keys, **vals;
	size_t count, cap;
};

struct sieve_config *sieve_config_new(void)
{
	struct sieve_config *c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	return c;
}

void sieve_config_unref(struct sieve_config **cfgp)
{
	struct sieve_config *c = *cfgp;
	if (c == NULL)
		return;
	*cfgp = NULL;
	for (size_t i = 0; i < c->count; i++) {
		free(c->keys[i]);
		free(c->vals[i]);
	}
	free(c->keys);
	free(c->vals);
	free(c);
}

struct sieve_config *sieve_config_clone(const struct sieve_config *cfg)
{
	struct sieve_config *c = sieve_config_new();
	for (size_t i = 0; cfg != NULL && i < cfg->count; i++)
		sieve_config_set(c, cfg->keys[i], cfg->vals[i]);
	return c;
}

static long config_find(const struct sieve_config *c, const char *key)
{
	for (size_t i = 0; c != NULL && i < c->count; i++)
		if (strcmp(c->keys[i], key) == 0)
			return (long)i;
	return -1;
}

void sieve_config_set(struct sieve_config *c, const char *key, const char *value)
{
	long i = config_find(c, key);
	if (i >= 0) {
		free(c->vals[i]);
		c->vals[i] = strdup(value);
		return;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		char **k = realloc(c->keys, cap * sizeof(*k));
		if (k == NULL)
			abort();
		c->keys = k;
		char **v = realloc(c->vals, cap * sizeof(*v));
		if (v == NULL)
			abort();
		c->vals = v;
		c->cap = cap;
	}
	c->keys[c->count] = strdup(key);
	c->vals[c->count] = strdup(value);
	c->count++;
}

void sieve_config_unset(struct sieve_config *c, const char *key)
{
	long i = config_find(c, key);
	if (i < 0)
		return;
	free(c->keys[i]);
	free(c->vals[i]);
	c->count--;
	c->keys[i] = c->keys[c->count];
	c->vals[i] = c->vals[c->count];
}

const char *sieve_config_get(const struct sieve_config *c, const char *key)
{
	long i = config_find(c, key);
	return i < 0 ? NULL : c->vals[i];
}

/* The setting's leading decimal number and, in *unit_r, what follows it
   (blanks skipped); false when it is unset, empty or not a number. */
static bool config_number(const struct sieve_config *c, const char *key,
			  unsigned long long *n_r, const char **unit_r)
{
	const char *v = sieve_config_get(c, key);
	if (v == NULL || *v == '\0')
		return false;
	char *end;
	*n_r = strtoull(v, &end, 10);
	if (end == v)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	*unit_r = end;
	return true;
}

uint64_t sieve_config_uint(const struct sieve_config *c, const char *key, uint64_t def)
{
	unsigned long long n;
	const char *end;
	if (!config_number(c, key, &n, &end))
		return def;
	switch (toupper((unsigned char)*end)) {
	case 'K': n *= 1024ULL; break;
	case 'M': n *= 1024ULL * 1024; break;
	case 'G': n *= 1024ULL * 1024 * 1024; break;
	default: break;
	}
	return n;
}

uint64_t sieve_config_duration(const struct sieve_config *c, const char *key, uint64_t def)
{
	unsigned long long n;
	const char *end;
	if (!config_number(c, key, &n, &end))
		return def;
	if (strncasecmp(end, "ms", 2) == 0 || strncasecmp(end, "msec", 4) == 0)
		return n / 1000;
	switch (tolower((unsigned char)*end)) {
	case 'm': n *= 60; break;
	case 'h': n *= 3600; break;
	case 'd': n *= 86400; break;
	case 'w': n *= 7 * 86400; break;
	default: break;
	}
	return n;
}

bool sieve_config_bool(const struct sieve_config *c, const char *key, bool def)
{
	const char *v = sieve_config_get(c, key);
	if (v == NULL || *v == '\0')
		return def;
	return strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 ||
		strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0;
}
