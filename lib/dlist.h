/*
 * dlist.h — the one doubly linked list in creation order: an element
 * type with prev and next members, a list with head and tail (keyed's
 * entries, the window table's windows).  Macros, so each keeps its own
 * types and its users iterate with plain e->next.
 */
#ifndef DLIST_H
#define DLIST_H

/* Put e at the end of list l. */
#define DLIST_APPEND(l, e) do {                         \
		(e)->next = NULL;                       \
		(e)->prev = (l)->tail;                  \
		if ((l)->tail)                          \
			(l)->tail->next = (e);          \
		else                                    \
			(l)->head = (e);                \
		(l)->tail = (e);                        \
	} while (0)

/* Take e out of list l (its prev and next are cleared). */
#define DLIST_REMOVE(l, e) do {                         \
		if ((e)->prev)                          \
			(e)->prev->next = (e)->next;    \
		else                                    \
			(l)->head = (e)->next;          \
		if ((e)->next)                          \
			(e)->next->prev = (e)->prev;    \
		else                                    \
			(l)->tail = (e)->prev;          \
		(e)->prev = (e)->next = NULL;           \
	} while (0)

#endif
