# RFC 5293 section 5 (addheader example; the require line is added)
require ["editheader"];
/* Don't redirect if we already redirected */
if not header :contains "X-Sieve-Filtered"
        ["<kim@job.example.com>", "<kim@home.example.com>"]
{
        addheader "X-Sieve-Filtered" "<kim@job.example.com>";
        redirect "kim@home.example.com";
}
