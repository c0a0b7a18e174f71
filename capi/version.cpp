// Version queries and status names.
#include "cow.h"

extern "C" {

COW_API uint32_t cow_version(void) noexcept { return COW_VERSION_NUMBER; }

COW_API const char *cow_version_string(void) noexcept { return COW_VERSION_STRING; }

COW_API const char *cow_strerror(cow_status status) noexcept {
    switch (status) {
    case COW_OK: return "COW_OK: success";
    case COW_EINVAL: return "COW_EINVAL: invalid argument";
    case COW_ETYPE: return "COW_ETYPE: handle of the wrong type or not a libcow handle";
    case COW_ERANGE: return "COW_ERANGE: index or offset out of range";
    case COW_ENOTFOUND: return "COW_ENOTFOUND: not found";
    case COW_EUTF8: return "COW_EUTF8: invalid UTF-8";
    case COW_EOVERFLOW: return "COW_EOVERFLOW: size or reference count overflow";
    case COW_ENOMEM: return "COW_ENOMEM: out of memory";
    case COW_EBUSY: return "COW_EBUSY: libcow values are alive";
    case COW_ENOTCONTIGUOUS: return "COW_ENOTCONTIGUOUS: value is not stored contiguously";
    case COW_EUNSUPPORTED: return "COW_EUNSUPPORTED: not supported by this version";
    case COW_ECALLBACK: return "COW_ECALLBACK: a cow_type callback failed";
    default: return "unknown libcow status";
    }
}

}  // extern "C"
