# RFC 5490 section 4.1 (servermetadata test example)
require ["enotify", "servermetadata", "variables", "envelope"];

if servermetadata :matches
    "/private/vendor/vendor.isode/notification-uri" "*" {
    set "notif_uri" "${0}";
}

if not string :is "${notif_uri}" "none" {
    # :matches is used to get the MAIL FROM address
    if envelope :all :matches "from" "*" {
        set "env_from" " [really: ${1}]";
    }

    # :matches is used to get the value of the Subject header
    if header :matches "Subject" "*" {
        set "subject" "${1}";
    }

    # :matches is used to get the address from the From header
    if address :matches :all "from" "*" {
        set "from_addr" "${1}";
    }

    notify :message "${from_addr}${env_from}: ${subject}"
            "${notif_uri}";
}
