//go:build ignore

/* flowpol's enforcer: TC programs on the host side of pod interfaces. A
 * packet leaving a pod (tc ingress of its host-side interface) is decided by
 * the source pod's egress rules, a packet entering one (tc egress) by the
 * destination pod's ingress rules.
 *
 * Each address maps to an identity: a pod's address through the endpoints
 * hash, any other address through the longest matching prefix of the
 * policies' CIDRs (the cidrs LPM trie), or WORLD. A pod's endpoint entry
 * also says, for each direction, which policy isolates its identity, if
 * any; then the policy LPM trie, keyed by (self, other, direction, proto,
 * port) with ports and protocols as prefixes, must allow the connection.
 *
 * Connections are tracked in one LRU hash, keyed by the tuple in a canonical
 * order (the lower address and port first), so that a packet of a tracked
 * connection, either way, costs one hash lookup and no LPM lookup; only a
 * connection's first packet is decided. Each CPU also caches the
 * connections it saw last with their verdicts (recent): a packet of a
 * cached connection, under the same revision, needs no hash lookup. The rule
 * tables are double-buffered (arrays of two maps each) and switched by
 * one 32-bit write of current.revision, whose low bit names the slot in
 * use; a tracked connection decided under an older revision is decided
 * again on its next packet: kept if still allowed, cut if not. In audit
 * mode nothing is dropped. New connections' verdicts go to user space
 * through a ring buffer, which wakes its reader once for each batch of
 * them. */

#include "headers/kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_SHOT 2

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_SCTP 132
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

#define DIR_EGRESS 0  /* leaving a pod */
#define DIR_INGRESS 1 /* entering a pod */

#define WORLD 1 /* the identity of an address no policy CIDR holds */

enum verdict_kind {
	VERDICT_ALLOW = 0, /* a new connection, allowed */
	VERDICT_DENY = 1,  /* a new connection, denied (dropped unless audit) */
	VERDICT_CUT = 2,   /* a tracked connection a rule update no longer allows */
};

enum stat {
	STAT_NEW = 0,      /* connections decided */
	STAT_TRACKED = 1,  /* packets of tracked connections */
	STAT_DROPPED = 2,  /* packets dropped */
	STAT_AUDITED = 3,  /* packets that would have been dropped */
	STAT_REDECIDED = 4,/* tracked connections decided again after an update */
	STAT_LOST = 5,     /* verdicts the ring buffer had no room for */
	STAT_MAX = 6,
};

/* Set before load. */
volatile const __u8 audit = 0;

struct state {
	__u32 revision; /* bumped on each switch; its low bit is the slot in use */
	__u32 pad;
};

struct lpm_addr {
	__u32 prefixlen;
	__u8 addr[16]; /* IPv4 as ::ffff:a.b.c.d */
};

/* endpoint is a pod address's entry: its identity, and for each direction
 * the policy isolating that identity (the isolation index + 1), or 0. */
struct endpoint {
	__u32 id;
	__u32 isolated[2];
};

struct policy_key {
	__u32 prefixlen;
	__u32 self;
	__u32 other;
	__u8 dir;
	__u8 proto;
	__be16 port;
};

struct tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u16 pad;
} __attribute__((aligned(8))); /* compared as 64-bit words (same_tuple) */

struct ct_val {
	__u32 revision;
	__u32 why; /* rule id when allowed, policy id when denied */
	__u8 denied;
	__u8 flip; /* the connection's first packet went the key's reverse way */
	__u8 pad[6];
};

struct verdict {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir;
	__u8 kind;
	__u8 audit;
	__u32 revision;
	__u32 why;
	__u32 ifindex;
	__u32 pad;
};

/* Referenced so their BTF is complete, for bpf2go and the inner maps. */
const struct verdict *unused_verdict __attribute__((unused));
const enum stat *unused_stat __attribute__((unused));
const struct lpm_addr *unused_lpm_addr __attribute__((unused));
const struct endpoint *unused_endpoint __attribute__((unused));
const struct policy_key *unused_policy_key __attribute__((unused));
const struct tuple *unused_tuple __attribute__((unused));
const struct ct_val *unused_ct_val __attribute__((unused));
const struct state *unused_state __attribute__((unused));

struct endpoints_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u8[16]);
	__type(value, struct endpoint);
};

struct cidrs_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_addr);
	__type(value, __u32);
};

struct policy_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1048576);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct policy_key);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct endpoints_inner);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct cidrs_inner);
} cidrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct policy_inner);
} policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state);
} current SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	/* An LRU list per CPU: a new connection's entry is taken from the
	 * CPU's own list, without the shared list's lock (a new connection
	 * 100 ns cheaper). Each CPU evicts from its own share of the entries. */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct tuple);
	__type(value, struct ct_val);
} conntrack SEC(".maps");

/* recent is each CPU's cache of the connections it saw last: for each, its
 * conntrack key, and the revision and verdict of its entry as of its last
 * packet there. A packet of a cached connection, under the same revision,
 * passes or drops without the conntrack lookup, which under real traffic
 * mostly misses the CPU's caches: between two packets of a connection the
 * network stack and the applications run. The cache is direct-mapped (a
 * connection's slot is given by slot()) and one map value of 256 slots,
 * 12 KiB a CPU, so that a hit costs one map lookup and one slot's memory.
 * A connection passed from here does not touch its conntrack entry, so
 * the LRU may evict that entry sooner; its next packet elsewhere is then
 * decided again, as after any eviction. */
#define RECENT_BITS 8
#define RECENT_SLOTS (1 << RECENT_BITS)

struct cached {
	struct tuple key;
	__u32 revision;
	__u8 denied;
	__u8 pad[3];
};

struct cache {
	struct cached slot[RECENT_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cache);
} recent SEC(".maps");

/* slot is the slot in recent of a connection's key: a multiplicative hash of
 * the words that tell connections apart (the addresses' last words, the
 * ports, the protocol). */
static __always_inline __u32 slot(const struct tuple *k)
{
	const __u32 *w = (const __u32 *)k;
	__u32 h = (w[3] ^ w[7] ^ w[8] ^ w[9]) * 0x9e3779b1;
	return h >> (32 - RECENT_BITS);
}

/* Verdicts wake their reader each time another WAKE_BYTES of them are
 * waiting, not for each one: waking it costs an interrupt, which in a
 * virtual machine is an exit to the host. The reader also takes what is
 * waiting when its read times out (Enforcer.Run: every 100 ms). */
#define VERDICT_BYTES (sizeof(struct verdict) + BPF_RINGBUF_HDR_SZ)
#define WAKE_BYTES (128 * VERDICT_BYTES)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* tables are the active slot's rule maps. */
struct tables {
	void *endpoints;
	void *cidrs;
	void *policy;
};

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &stat);
	if (n)
		*n += 1;
}

static __always_inline bool load_tables(__u32 slot, struct tables *tb)
{
	tb->endpoints = bpf_map_lookup_elem(&endpoints, &slot);
	tb->cidrs = bpf_map_lookup_elem(&cidrs, &slot);
	tb->policy = bpf_map_lookup_elem(&policy, &slot);
	return tb->endpoints && tb->cidrs && tb->policy;
}

static __always_inline bool governed(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

enum parsed {
	PARSED_NO = 0,   /* not governed */
	PARSED_YES = 1,  /* a governed packet's tuple */
	PARSED_SLOW = 2, /* not in the linear data: parse_copied must read it */
};

/* parse_direct reads an IPv4 packet's tuple from the packet's linear data,
 * without copying it; anything else is left to parse_copied. */
static __always_inline enum parsed parse_direct(struct __sk_buff *skb, struct tuple *t, __u8 *flags)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *ip = data + ETH_HLEN;
	if ((void *)(ip + 20) > end || *(__be16 *)(data + 12) != bpf_htons(ETH_P_IP))
		return PARSED_SLOW;
	if (((ip[6] & 0x1f) | ip[7]) != 0)
		return PARSED_NO; /* a later fragment: its first was decided */
	if (!governed(ip[9]))
		return PARSED_NO;
	__u8 *l4 = ip + (ip[0] & 0xf) * 4;
	if ((void *)(l4 + 14) > end)
		return PARSED_SLOW;
	t->saddr[10] = t->saddr[11] = 0xff;
	t->daddr[10] = t->daddr[11] = 0xff;
	__builtin_memcpy(&t->saddr[12], &ip[12], 4);
	__builtin_memcpy(&t->daddr[12], &ip[16], 4);
	t->proto = ip[9];
	t->sport = *(__be16 *)l4;
	t->dport = *(__be16 *)(l4 + 2);
	*flags = t->proto == IPPROTO_TCP ? l4[13] : 0;
	return PARSED_YES;
}

/* parse_copied reads the tuple through copies of the headers: IPv6, and
 * IPv4 whose headers are not all in the linear data. */
static __always_inline bool parse_copied(struct __sk_buff *skb, struct tuple *t, __u8 *flags)
{
	__be16 eth;
	if (bpf_skb_load_bytes(skb, 12, &eth, 2) < 0)
		return false;
	__u32 l4;
	if (eth == bpf_htons(ETH_P_IP)) {
		__u8 ip[20];
		if (bpf_skb_load_bytes(skb, ETH_HLEN, ip, 20) < 0)
			return false;
		if (((ip[6] & 0x1f) | ip[7]) != 0)
			return false; /* a later fragment: its first was decided */
		t->saddr[10] = t->saddr[11] = 0xff;
		t->daddr[10] = t->daddr[11] = 0xff;
		__builtin_memcpy(&t->saddr[12], &ip[12], 4);
		__builtin_memcpy(&t->daddr[12], &ip[16], 4);
		t->proto = ip[9];
		l4 = ETH_HLEN + (ip[0] & 0xf) * 4;
	} else if (eth == bpf_htons(ETH_P_IPV6)) {
		__u8 ip6[40];
		if (bpf_skb_load_bytes(skb, ETH_HLEN, ip6, 40) < 0)
			return false;
		__builtin_memcpy(t->saddr, &ip6[8], 16);
		__builtin_memcpy(t->daddr, &ip6[24], 16);
		__u8 next = ip6[6];
		l4 = ETH_HLEN + 40;
#pragma unroll
		for (int i = 0; i < 4; i++) {
			if (next != 0 && next != 43 && next != 60 && next != 44)
				break;
			__u8 ext[4];
			if (bpf_skb_load_bytes(skb, l4, ext, 4) < 0)
				return false;
			if (next == 44) {
				if (((ext[2] << 8 | ext[3]) & 0xfff8) != 0)
					return false; /* a later fragment */
				l4 += 8;
			} else {
				l4 += (ext[1] + 1) * 8;
			}
			next = ext[0];
		}
		t->proto = next;
	} else {
		return false;
	}
	if (!governed(t->proto))
		return false;
	__be16 ports[2];
	if (bpf_skb_load_bytes(skb, l4, ports, 4) < 0)
		return false;
	t->sport = ports[0];
	t->dport = ports[1];
	*flags = 0;
	if (t->proto == IPPROTO_TCP && bpf_skb_load_bytes(skb, l4 + 13, flags, 1) < 0)
		return false;
	return true;
}

/* parse reads a TCP, UDP or SCTP packet's tuple; anything else (ARP, ICMP,
 * a later IPv4 fragment, an unknown IPv6 extension) is not governed. */
static __always_inline bool parse(struct __sk_buff *skb, struct tuple *t, __u8 *flags)
{
	enum parsed p = parse_direct(skb, t, flags);
	if (p != PARSED_SLOW)
		return p == PARSED_YES;
	return parse_copied(skb, t, flags);
}

static __always_inline __u32 identity(struct tables *tb, const __u8 *addr)
{
	struct endpoint *ep = bpf_map_lookup_elem(tb->endpoints, addr);
	if (ep)
		return ep->id;
	struct lpm_addr k = {.prefixlen = 128};
	__builtin_memcpy(k.addr, addr, 16);
	__u32 *id = bpf_map_lookup_elem(tb->cidrs, &k);
	return id ? *id : WORLD;
}

static __always_inline bool same_addr(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* decide applies the pod's rules for one direction to a connection's first
 * packet: why is the allowing rule, or the isolating policy, or 0 when the
 * pod is not isolated (or not a pod). */
static __always_inline bool decide(struct tables *tb, const struct tuple *t, __u32 *why)
{
	*why = 0;
	const __u8 *self = t->dir == DIR_EGRESS ? t->saddr : t->daddr;
	const __u8 *other = t->dir == DIR_EGRESS ? t->daddr : t->saddr;
	if (same_addr(t->saddr, t->daddr))
		return true; /* a pod may always reach itself */
	struct endpoint *ep = bpf_map_lookup_elem(tb->endpoints, self);
	if (!ep)
		return true;
	__u32 iso = ep->isolated[t->dir & 1];
	if (!iso)
		return true;
	struct policy_key pk = {
		.prefixlen = 96,
		.self = ep->id,
		.other = identity(tb, other),
		.dir = t->dir,
		.proto = t->proto,
		.port = t->dport,
	};
	__u32 *rule = bpf_map_lookup_elem(tb->policy, &pk);
	if (rule) {
		*why = *rule;
		return true;
	}
	*why = iso;
	return false;
}

static __always_inline void report(struct __sk_buff *skb, const struct tuple *t, __u8 kind, __u32 why, __u32 revision)
{
	struct verdict *v = bpf_ringbuf_reserve(&verdicts, sizeof(*v), 0);
	if (!v) {
		count(STAT_LOST);
		return;
	}
	__builtin_memcpy(v->saddr, t->saddr, 16);
	__builtin_memcpy(v->daddr, t->daddr, 16);
	v->sport = t->sport;
	v->dport = t->dport;
	v->proto = t->proto;
	v->dir = t->dir;
	v->kind = kind;
	v->audit = audit;
	v->revision = revision;
	v->why = why;
	v->ifindex = skb->ifindex;
	v->pad = 0;
	/* What is waiting, this verdict included: wake the reader when it
	 * crosses a multiple of WAKE_BYTES. Two CPUs reporting at once may
	 * both miss a crossing; the next one wakes it. */
	__u64 waiting = bpf_ringbuf_query(&verdicts, BPF_RB_AVAIL_DATA);
	bool wake = waiting / WAKE_BYTES != (waiting - VERDICT_BYTES) / WAKE_BYTES;
	bpf_ringbuf_submit(v, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline int pass_or_drop(bool denied)
{
	if (!denied)
		return TC_ACT_UNSPEC;
	if (audit) {
		count(STAT_AUDITED);
		return TC_ACT_UNSPEC;
	}
	count(STAT_DROPPED);
	return TC_ACT_SHOT;
}

static __always_inline bool same_tuple(const struct tuple *a, const struct tuple *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* remember caches key's connection, with its entry c, in its slot r. */
static __always_inline void remember(struct cached *r, const struct tuple *key, const struct ct_val *c)
{
	if (!r)
		return;
	r->key = *key;
	r->revision = c->revision;
	r->denied = c->denied;
}

static __always_inline void reverse(const struct tuple *t, struct tuple *r)
{
	__builtin_memcpy(r->saddr, t->daddr, 16);
	__builtin_memcpy(r->daddr, t->saddr, 16);
	r->sport = t->dport;
	r->dport = t->sport;
	r->proto = t->proto;
	r->dir = t->dir ^ 1;
	r->pad = 0;
}

/* canonical is the conntrack key of t's connection, the same for t and its
 * reverse: the lower (address, port) first, and on a tie (a socket talking
 * to itself) the egress direction. It returns whether the key is t's
 * reverse. */
static __always_inline bool canonical(const struct tuple *t, struct tuple *k)
{
	const __u32 *s = (const __u32 *)t->saddr, *d = (const __u32 *)t->daddr;
	int order = 0;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (order == 0 && s[i] != d[i])
			order = bpf_ntohl(s[i]) < bpf_ntohl(d[i]) ? -1 : 1;
	}
	if (order == 0 && t->sport != t->dport)
		order = bpf_ntohs(t->sport) < bpf_ntohs(t->dport) ? -1 : 1;
	if (order > 0 || (order == 0 && t->dir != DIR_EGRESS)) {
		reverse(t, k);
		return true;
	}
	*k = *t;
	return false;
}

/* tracked handles a packet of a known connection, deciding it again when
 * the rules changed since it was decided. */
static __always_inline int tracked(struct __sk_buff *skb, const struct state *st, const struct tuple *key,
				   struct ct_val *c)
{
	count(STAT_TRACKED);
	if (c->revision != st->revision) {
		struct tables tb;
		if (!load_tables(st->revision & 1, &tb))
			return TC_ACT_UNSPEC;
		count(STAT_REDECIDED);
		struct tuple first; /* the connection's first packet's way */
		if (c->flip)
			reverse(key, &first);
		else
			first = *key;
		__u32 why;
		bool allowed = decide(&tb, &first, &why);
		if (!allowed && !c->denied)
			report(skb, &first, VERDICT_CUT, why, st->revision);
		c->denied = !allowed;
		c->why = why;
		c->revision = st->revision;
	}
	return pass_or_drop(c->denied);
}

/* track records a new connection under key, whose first packet went the
 * way of first (key's reverse when flip), and reports its verdict. */
static __always_inline int track(struct __sk_buff *skb, const struct state *st, struct cached *rc,
				 const struct tuple *key, const struct tuple *first, bool flip, bool allowed,
				 __u32 why)
{
	struct ct_val c = {.revision = st->revision, .why = why, .denied = !allowed, .flip = flip};
	bpf_map_update_elem(&conntrack, key, &c, BPF_ANY);
	remember(rc, key, &c);
	report(skb, first, allowed ? VERDICT_ALLOW : VERDICT_DENY, why, st->revision);
	return pass_or_drop(!allowed);
}

static __always_inline int handle(struct __sk_buff *skb, __u8 dir)
{
	struct tuple t = {.dir = dir};
	__u8 flags;
	if (!parse(skb, &t, &flags))
		return TC_ACT_UNSPEC;
	__u32 zero = 0;
	struct state *st = bpf_map_lookup_elem(&current, &zero);
	if (!st)
		return TC_ACT_UNSPEC;

	struct tuple key;
	bool flip = canonical(&t, &key);
	struct cache *cache = bpf_map_lookup_elem(&recent, &zero);
	struct cached *rc = cache ? &cache->slot[slot(&key)] : NULL;
	if (rc && rc->revision == st->revision && same_tuple(&rc->key, &key)) {
		count(STAT_TRACKED);
		return pass_or_drop(rc->denied);
	}
	struct ct_val *c = bpf_map_lookup_elem(&conntrack, &key);
	if (c) {
		int ret = tracked(skb, st, &key, c);
		remember(rc, &key, c);
		return ret;
	}

	struct tables tb;
	if (!load_tables(st->revision & 1, &tb))
		return TC_ACT_UNSPEC; /* no rules loaded yet */
	count(STAT_NEW);
	__u32 why;
	bool allowed = decide(&tb, &t, &why);
	if (!allowed && t.proto == IPPROTO_TCP && !(flags & TCP_FLAG_SYN)) {
		/* Mid-stream: a connection that began before it could be
		 * tracked. If this packet is its reply side, track it so. */
		struct tuple r;
		reverse(&t, &r);
		__u32 rwhy;
		if (decide(&tb, &r, &rwhy))
			return track(skb, st, rc, &key, &r, !flip, true, rwhy);
	}
	return track(skb, st, rc, &key, &t, flip, allowed, why);
}

SEC("tc")
int from_pod(struct __sk_buff *skb)
{
	return handle(skb, DIR_EGRESS);
}

SEC("tc")
int to_pod(struct __sk_buff *skb)
{
	return handle(skb, DIR_INGRESS);
}

char __license[] SEC("license") = "Dual MIT/GPL";
