module libcow

go 1.19
