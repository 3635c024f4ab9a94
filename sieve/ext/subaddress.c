/* subaddress.c: the subaddress extension (RFC 5233): the :user and
 * :detail address parts for address, envelope and every other command that
 * takes address parts.  The split itself is sieve_address_part()'s
 * (sieve/matching.c): the local part is cut at the first character that
 * is one of the "recipient_delimiter" setting's characters (default "+"),
 * as Pigeonhole does; without a delimiter there is no :detail at all
 * (RFC 5233 section 4), with an empty one :detail is "". */
#include "sieve/engine.h"

static const struct sieve_tag_def tag_user = { "user", SV_TC_ADDRPART, SV_AP_USER, 0, NULL };
static const struct sieve_tag_def tag_detail = { "detail", SV_TC_ADDRPART, SV_AP_DETAIL, 0, NULL };
static const struct sieve_tag_def *const subaddress_tags[] = { &tag_user, &tag_detail, NULL };

const struct sieve_extension_def sieve_ext_subaddress = {
	.name = "subaddress",
	.flags = SV_EF_DEFAULT_ON,
	.class_tags = subaddress_tags,
};
