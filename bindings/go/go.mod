// A vanity path that is not served yet: see README.md ("Module path").
module libcow.dev/libcow

go 1.19
