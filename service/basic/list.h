/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Intrusive doubly linked lists, as the kernel's hlist: each item points at the pointer that
 * points at it, so that it leaves its list without knowing the list's head. An item holds
 * LIST_FIELDS(Type, name) for each list it can be on. */

#define LIST_FIELDS(type, name) type *name##_next, **name##_pprev

#define LIST_PREPEND(name, head, item)                                          \
        do {                                                                    \
                typeof(&(head)) _head = &(head);                                \
                typeof(item) _item = (item);                                    \
                _item->name##_next = *_head;                                    \
                if (*_head)                                                     \
                        (*_head)->name##_pprev = &_item->name##_next;           \
                _item->name##_pprev = _head;                                    \
                *_head = _item;                                                 \
        } while (0)

#define LIST_REMOVE(name, item)                                                 \
        do {                                                                    \
                typeof(item) _item = (item);                                    \
                *_item->name##_pprev = _item->name##_next;                      \
                if (_item->name##_next)                                         \
                        _item->name##_next->name##_pprev = _item->name##_pprev; \
                _item->name##_next = NULL;                                      \
                _item->name##_pprev = NULL;                                     \
        } while (0)

/* Hands the whole list at from to the empty head to; from is left empty. */
#define LIST_MOVE(name, to, from)                                               \
        do {                                                                    \
                (to) = (from);                                                  \
                (from) = NULL;                                                  \
                if (to)                                                         \
                        (to)->name##_pprev = &(to);                             \
        } while (0)

#define LIST_FOREACH(name, i, head) for (typeof(head) i = (head); i; i = i->name##_next)

/* The same, for a body that may remove i. */
#define LIST_FOREACH_SAFE(name, i, n, head) \
        for (typeof(head) i = (head), n = i ? i->name##_next : NULL; i; i = n, n = i ? i->name##_next : NULL)
