/* Types both units (and the split-BTF base) use, so dedup has work. */
#include <stdint.h>

/* clang has no noipa; noinline keeps the function out of line there too. */
#ifdef __clang__
#define noipa noinline
#endif

enum conn_state { CONN_NEW, CONN_OPEN = 5, CONN_CLOSED = -1 };
enum conn_big { CONN_BIG = 0x100000000ULL };

struct tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto : 4, flags : 4;
};

typedef struct tuple tuple_t;
typedef const volatile tuple_t cv_tuple_t;

struct conn {
	tuple_t tuple;
	enum conn_state state;
	uint64_t bytes, packets;
	union {
		struct { int a, b; } pair;
		long raw;
	};
	struct conn *next;
	const char *names[2][4];
	cv_tuple_t *shadow;
	unsigned char data[4];
};

struct conn_stats {
	unsigned long drops;
	enum conn_big big;
};

typedef int (*conn_cb_t)(struct conn *, int state, ...);
