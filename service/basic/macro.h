/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdlib.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Defines fooptr(), for _cleanup_(fooptr) on a pointer whose free function takes the pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(ptr)                           \
        ({                                      \
                typeof(ptr) _ptr_ = (ptr);      \
                (ptr) = NULL;                   \
                _ptr_;                          \
        })

/* The same for a struct: the variable is left zeroed. */
#define TAKE_STRUCT(s)                          \
        ({                                      \
                typeof(s) _s_ = (s);            \
                (s) = (typeof(s)) {};           \
                _s_;                            \
        })

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}
