/* copy.c: the copy extension (RFC 3894): the :copy tag of fileinto and
 * redirect.  The message is filed or forwarded and the implicit keep stays
 * in effect.  The store and redirect actions read the tag themselves
 * (sieve_core_store, redirect in core.c); result.c prints it as
 * "preserve implicit keep". */
#include "sieve/engine.h"

static const struct sieve_tag_def tag_copy = { "copy", SV_TC_NONE, 0, 0, NULL };

static const struct sieve_tag_link copy_links[] = {
	{ "fileinto", &tag_copy }, { "redirect", &tag_copy }, { NULL, NULL }
};

const struct sieve_extension_def sieve_ext_copy = {
	.name = "copy",
	.flags = SV_EF_DEFAULT_ON,
	.tag_links = copy_links,
};
