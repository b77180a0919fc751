//go:build ignore

/* flowpol's flow capture. Each new flow (a TCP connection established, in
 * either direction, or the first datagram of a UDP flow) is recorded once in
 * an LRU hash keyed by (cgroup, netns, src, dst, dst port, proto, observer)
 * and sent to user space through a ring buffer; repeats only bump the count,
 * which user space flushes periodically. Replies never become flows.
 * DNS answers (UDP and TCP from port 53) reaching a socket are sent to user
 * space too, as the head of their payload, for the names behind addresses. */

#include "headers/kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

#define DNS_PORT 53
/* The most of a DNS answer's payload sent to user space. */
#define DNS_MAX 512

#define OBSERVER_CLIENT 1
#define OBSERVER_SERVER 2

/* Counters in the stats map. */
enum stat {
	STAT_EVENTS = 0,     /* new flows sent to user space */
	STAT_LOST = 1,       /* new flows the ring buffer had no room for */
	STAT_REPEATS = 2,    /* repeats counted in the flows map */
	STAT_REPLIES = 3,    /* UDP replies recognised and ignored */
	STAT_DNS = 4,        /* DNS answers sent to user space */
	STAT_DNS_LOST = 5,   /* DNS answers the ring buffer had no room for */
	STAT_MAX = 6,
};

struct flow_key {
	__u64 cgroup_id;
	__u32 netns;
	__u8 family;
	__u8 proto;
	__u8 observer;
	__u8 pad1;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 dport;
	__u16 pad2;
	__u32 pad3;
};

struct flow_val {
	__u64 count;
	__u64 first_ns;
	__u64 last_ns;
};

struct event {
	struct flow_key key;
	__u64 ts_ns;
	__u32 pid;
	__u16 sport;
	__u16 pad;
	char comm[16];
};

/* dns_event is the head of a DNS answer's payload as it reached a socket
 * (for TCP, of a segment: the message's two-byte length first). User space
 * tells it from an event by its size. */
struct dns_event {
	__u64 cgroup_id;
	__u64 ts_ns;
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u16 len; /* bytes of payload */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 payload[DNS_MAX];
};

struct proc {
	__u32 pid;
	char comm[16];
};

struct udp_tuple {
	__u64 cgroup_id;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct udp_tuple);
	__type(value, __u8);
} udp_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct proc);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Only here so that bpf2go generates Go types for them. */
const struct event *unused_event __attribute__((unused));
const struct dns_event *unused_dns_event __attribute__((unused));
const enum stat *unused_stat __attribute__((unused));

/* Set by the loader before load. */
volatile const bool skip_loopback = true;

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		*v += 1;
}

static __always_inline bool is_loopback(const struct flow_key *k)
{
	if (k->family == AF_INET)
		return k->saddr[0] == 127 || k->daddr[0] == 127;
	__u32 z = 0;
	for (int i = 0; i < 15; i++)
		z |= k->daddr[i];
	return z == 0 && k->daddr[15] == 1;
}

/* unmap turns an IPv4-mapped IPv6 key into an IPv4 one. */
static __always_inline void unmap(__u8 *family, __u8 *a, __u8 *b)
{
	if (*family != AF_INET6)
		return;
	for (int i = 0; i < 10; i++)
		if (a[i] || b[i])
			return;
	if (a[10] != 0xff || a[11] != 0xff || b[10] != 0xff || b[11] != 0xff)
		return;
	for (int i = 0; i < 4; i++) {
		a[i] = a[12 + i];
		b[i] = b[12 + i];
	}
	for (int i = 4; i < 16; i++) {
		a[i] = 0;
		b[i] = 0;
	}
	*family = AF_INET;
}

/* record counts a flow, and sends it to user space the first time. */
static __always_inline void record(struct flow_key *k, __u16 sport, const struct proc *p)
{
	unmap(&k->family, k->saddr, k->daddr);
	if (skip_loopback && is_loopback(k))
		return;
	__u64 now = bpf_ktime_get_ns();
	struct flow_val *v = bpf_map_lookup_elem(&flows, k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_ns = now;
		count(STAT_REPEATS);
		return;
	}
	struct flow_val nv = {.count = 1, .first_ns = now, .last_ns = now};
	if (bpf_map_update_elem(&flows, k, &nv, BPF_NOEXIST) != 0) {
		v = bpf_map_lookup_elem(&flows, k); /* another CPU was first */
		if (v)
			__sync_fetch_and_add(&v->count, 1);
		return;
	}
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_LOST); /* user space still finds it in the flows map */
		return;
	}
	__builtin_memcpy(&e->key, k, sizeof(*k));
	e->ts_ns = now;
	e->sport = sport;
	e->pad = 0;
	if (p) {
		e->pid = p->pid;
		__builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
	} else {
		e->pid = 0;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	bpf_ringbuf_submit(e, 0);
	count(STAT_EVENTS);
}

/* ---- TCP ---- */

/* SK_READ reads a field of a kernel object, of the type given. In a
 * tp_btf program the verifier knows the socket's type, and its fields are
 * plain loads (direct); the other programs read them through
 * bpf_probe_read_kernel, a helper call each. direct is a constant, so only
 * one branch is compiled. */
#define SK_READ(direct, type, field)                                    \
	({                                                              \
		type __v;                                               \
		if (direct)                                             \
			__v = (field);                                  \
		else                                                    \
			bpf_core_read(&__v, sizeof(__v), &(field));     \
		__v;                                                    \
	})

static __always_inline __u64 sock_cgroup_id(const struct sock *sk, bool direct)
{
	if (direct)
		return sk->sk_cgrp_data.cgroup->kn->id;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline __u32 sock_netns(const struct sock *sk, bool direct)
{
	if (direct)
		return sk->__sk_common.skc_net.net->ns.inum;
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* remember_proc notes the process that is connecting sk: the connection
 * is established later, in softirq, where it is not current. */
static __always_inline void remember_proc(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct proc p = {.pid = bpf_get_current_pid_tgid() >> 32};
	bpf_get_current_comm(p.comm, sizeof(p.comm));
	bpf_map_update_elem(&connecting, &key, &p, BPF_ANY);
}

/* sock_key fills k with the flow a socket of the observer's end carries,
 * and sport with the client's port; it is false for a family other than
 * IPv4 and IPv6. */
static __always_inline bool sock_key(const struct sock *sk, __u8 observer, bool direct, struct flow_key *k, __u16 *sport)
{
	k->cgroup_id = sock_cgroup_id(sk, direct);
	k->netns = sock_netns(sk, direct);
	k->family = SK_READ(direct, unsigned short, sk->__sk_common.skc_family);
	k->proto = IPPROTO_TCP;
	k->observer = observer;
	__u16 lport = SK_READ(direct, __u16, sk->__sk_common.skc_num);
	__u16 rport = bpf_ntohs(SK_READ(direct, __be16, sk->__sk_common.skc_dport));
	__u8 *local = observer == OBSERVER_CLIENT ? k->saddr : k->daddr;
	__u8 *remote = observer == OBSERVER_CLIENT ? k->daddr : k->saddr;
	if (k->family == AF_INET) {
		__be32 l = SK_READ(direct, __be32, sk->__sk_common.skc_rcv_saddr);
		__be32 r = SK_READ(direct, __be32, sk->__sk_common.skc_daddr);
		__builtin_memcpy(local, &l, 4);
		__builtin_memcpy(remote, &r, 4);
	} else if (k->family == AF_INET6) {
		bpf_core_read(local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(remote, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return false;
	}
	k->dport = observer == OBSERVER_CLIENT ? rport : lport;
	*sport = observer == OBSERVER_CLIENT ? lport : rport;
	return true;
}

/* remember_connector notes the process connecting sk, whose addresses and
 * ports are set by now, unless its flow is known already: then the
 * connection is a repeat, and only a new flow's event names a process.
 * That saves a map update and a delete on nearly every connection. */
static __always_inline void remember_connector(const struct sock *sk, bool direct)
{
	struct flow_key k = {};
	__u16 sport;
	if (sock_key(sk, OBSERVER_CLIENT, direct, &k, &sport)) {
		unmap(&k.family, k.saddr, k.daddr);
		if ((skip_loopback && is_loopback(&k)) || bpf_map_lookup_elem(&flows, &k))
			return;
	}
	remember_proc(sk);
}

/* tcp_established records a TCP connection that has just been established:
 * by connect (client) or by the three-way handshake ending on a listener's
 * child (server). Connections that never establish are not flows. */
static __always_inline void tcp_established(const struct sock *sk, int oldstate, bool direct)
{
	struct flow_key k = {};
	__u8 observer;
	if (oldstate == TCP_SYN_SENT)
		observer = OBSERVER_CLIENT;
	else if (oldstate == TCP_SYN_RECV)
		observer = OBSERVER_SERVER;
	else
		return;
	__u16 sport;
	if (!sock_key(sk, observer, direct, &k, &sport))
		return;
	struct proc *p = NULL;
	__u64 skey = (__u64)sk;
	if (observer == OBSERVER_CLIENT)
		p = bpf_map_lookup_elem(&connecting, &skey);
	record(&k, sport, p);
	if (p)
		bpf_map_delete_elem(&connecting, &skey);
}

/* tcp_state follows a socket's change of state. Most changes (a
 * connection's close takes four or five) are of no interest, and are
 * told apart by the states alone, before anything is read. */
static __always_inline void tcp_state(const struct sock *sk, int oldstate, int newstate, bool direct)
{
	bool closed = newstate == TCP_CLOSE && oldstate == TCP_SYN_SENT;
	if (newstate != TCP_SYN_SENT && newstate != TCP_ESTABLISHED && !closed)
		return;
	if (SK_READ(direct, __u16, sk->sk_protocol) != IPPROTO_TCP)
		return;
	if (newstate == TCP_SYN_SENT) {
		remember_connector(sk, direct);
		return;
	}
	if (newstate == TCP_ESTABLISHED) {
		tcp_established(sk, oldstate, direct);
		return;
	}
	__u64 key = (__u64)sk; /* refused or timed out: never a flow */
	bpf_map_delete_elem(&connecting, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	tcp_state(sk, oldstate, newstate, true);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
	tcp_state(sk, BPF_CORE_READ(ctx, oldstate), BPF_CORE_READ(ctx, newstate), false);
	return 0;
}

/* The kprobe path, for kernels without the inet_sock_set_state tracepoint:
 * the connecting process at tcp_v4_connect/tcp_v6_connect, the client end
 * established at tcp_finish_connect, the server end when inet_csk_accept
 * returns the new socket. */

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect_kp, const struct sock *sk)
{
	remember_proc(sk);
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(tcp_v6_connect_kp, const struct sock *sk)
{
	remember_proc(sk);
	return 0;
}

SEC("kprobe/tcp_finish_connect")
int BPF_KPROBE(tcp_finish_connect_kp, const struct sock *sk)
{
	tcp_established(sk, TCP_SYN_SENT, false);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(inet_csk_accept_kp, const struct sock *sk)
{
	if (sk && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		tcp_established(sk, TCP_SYN_RECV, false);
	return 0;
}

/* ---- UDP ---- */

static __always_inline bool load_udp(struct __sk_buff *skb, struct udp_tuple *t)
{
	__u8 vhl;
	if (bpf_skb_load_bytes(skb, 0, &vhl, 1) < 0)
		return false;
	__u32 l4;
	if ((vhl >> 4) == 4) {
		__u8 proto;
		if (bpf_skb_load_bytes(skb, 9, &proto, 1) < 0 || proto != IPPROTO_UDP)
			return false;
		__u16 frag;
		if (bpf_skb_load_bytes(skb, 6, &frag, 2) < 0 || (bpf_ntohs(frag) & 0x1fff) != 0)
			return false; /* a later fragment has no UDP header */
		if (bpf_skb_load_bytes(skb, 12, t->saddr, 4) < 0 || bpf_skb_load_bytes(skb, 16, t->daddr, 4) < 0)
			return false;
		t->family = AF_INET;
		l4 = (vhl & 0xf) * 4;
	} else if ((vhl >> 4) == 6) {
		__u8 next;
		if (bpf_skb_load_bytes(skb, 6, &next, 1) < 0 || next != IPPROTO_UDP)
			return false; /* extension headers are not followed */
		if (bpf_skb_load_bytes(skb, 8, t->saddr, 16) < 0 || bpf_skb_load_bytes(skb, 24, t->daddr, 16) < 0)
			return false;
		t->family = AF_INET6;
		l4 = 40;
	} else {
		return false;
	}
	__u16 ports[2];
	if (bpf_skb_load_bytes(skb, l4, ports, 4) < 0)
		return false;
	t->sport = bpf_ntohs(ports[0]);
	t->dport = bpf_ntohs(ports[1]);
	t->cgroup_id = bpf_skb_cgroup_id(skb);
	return true;
}

static __always_inline void reverse(const struct udp_tuple *t, struct udp_tuple *r)
{
	__builtin_memcpy(r, t, sizeof(*r));
	__builtin_memcpy(r->saddr, t->daddr, 16);
	__builtin_memcpy(r->daddr, t->saddr, 16);
	r->sport = t->dport;
	r->dport = t->sport;
}

/* udp_packet records the first datagram of a flow, seen leaving the sender
 * (client) or reaching the receiver (server). A datagram whose reverse was
 * seen first on the same socket's cgroup is a reply, not a flow. */
static __always_inline void udp_packet(struct __sk_buff *skb, __u8 observer)
{
	struct udp_tuple t = {}, r;
	if (!load_udp(skb, &t))
		return;
	reverse(&t, &r);
	if (bpf_map_lookup_elem(&udp_seen, &r)) {
		count(STAT_REPLIES);
		return;
	}
	__u8 one = 1;
	if (bpf_map_update_elem(&udp_seen, &t, &one, BPF_NOEXIST) != 0)
		return; /* a later datagram of a known flow */
	struct flow_key k = {
		.cgroup_id = t.cgroup_id,
		.family = t.family,
		.proto = IPPROTO_UDP,
		.observer = observer,
		.dport = t.dport,
	};
	__builtin_memcpy(k.saddr, t.saddr, 16);
	__builtin_memcpy(k.daddr, t.daddr, 16);
	struct proc p = {};
	struct proc *pp = NULL;
	if (observer == OBSERVER_CLIENT) { /* egress runs in the sender's context */
		p.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(p.comm, sizeof(p.comm));
		pp = &p;
	}
	record(&k, t.sport, pp);
}

/* of_no_interest tells apart, from the linear data alone and with no
 * helper call, the packets that neither udp_packet nor dns_answer takes:
 * TCP (unless, reaching a socket, from port 53) and protocols other than
 * UDP. These are nearly all of a node's packets. The others, and a packet
 * whose headers are not all in the linear data, are parsed in full. */
static __always_inline bool of_no_interest(const struct __sk_buff *skb, bool ingress)
{
	__u8 *p = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if ((void *)(p + 1) > end)
		return false;
	__u8 proto;
	__u32 l4;
	if ((p[0] >> 4) == 4) {
		if ((void *)(p + 20) > end)
			return false;
		proto = p[9];
		l4 = (p[0] & 0xf) * 4;
	} else if ((p[0] >> 4) == 6) {
		if ((void *)(p + 40) > end)
			return false;
		proto = p[6];
		l4 = 40;
	} else {
		return true;
	}
	if (proto == IPPROTO_UDP)
		return false;
	if (proto != IPPROTO_TCP || !ingress)
		return true;
	if (l4 < 20)
		return false;
	__u16 *ports = (void *)(p + l4);
	if ((void *)(ports + 1) > end)
		return false;
	return bpf_ntohs(ports[0]) != DNS_PORT;
}

SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb)
{
	if (!of_no_interest(skb, false))
		udp_packet(skb, OBSERVER_CLIENT);
	return 1;
}

/* ---- DNS answers ---- */

/* dns_src is what dns_answer learns of a packet before it reserves room. */
struct dns_src {
	__u8 family;
	__u8 proto;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* dns_l4 finds a packet's transport header: its offset, protocol and
 * addresses. Only UDP and TCP, and no later fragment, are of interest. */
static __always_inline bool dns_l4(struct __sk_buff *skb, struct dns_src *h, __u32 *l4)
{
	__u8 vhl;
	if (bpf_skb_load_bytes(skb, 0, &vhl, 1) < 0)
		return false;
	if ((vhl >> 4) == 4) {
		__u16 frag;
		if (bpf_skb_load_bytes(skb, 9, &h->proto, 1) < 0 || bpf_skb_load_bytes(skb, 6, &frag, 2) < 0 ||
		    (bpf_ntohs(frag) & 0x1fff) != 0)
			return false;
		if (bpf_skb_load_bytes(skb, 12, h->saddr, 4) < 0 || bpf_skb_load_bytes(skb, 16, h->daddr, 4) < 0)
			return false;
		h->family = AF_INET;
		*l4 = (vhl & 0xf) * 4;
	} else if ((vhl >> 4) == 6) {
		if (bpf_skb_load_bytes(skb, 6, &h->proto, 1) < 0)
			return false; /* extension headers are not followed */
		if (bpf_skb_load_bytes(skb, 8, h->saddr, 16) < 0 || bpf_skb_load_bytes(skb, 24, h->daddr, 16) < 0)
			return false;
		h->family = AF_INET6;
		*l4 = 40;
	} else {
		return false;
	}
	return h->proto == IPPROTO_UDP || h->proto == IPPROTO_TCP;
}

/* dns_answer sends the head of a packet from port 53, UDP or TCP, that
 * carries a payload, to user space. The ring buffer is reserved only for
 * such packets: every other packet costs a few loads. */
static __always_inline void dns_answer(struct __sk_buff *skb)
{
	struct dns_src h = {};
	__u32 l4;
	if (!dns_l4(skb, &h, &l4))
		return;
	__u16 ports[2];
	if (bpf_skb_load_bytes(skb, l4, ports, 4) < 0 || bpf_ntohs(ports[0]) != DNS_PORT)
		return;
	__u32 off = l4 + 8;
	if (h.proto == IPPROTO_TCP) {
		__u8 doff;
		if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1) < 0)
			return;
		off = l4 + (doff >> 4) * 4;
	}
	if (skb->len <= off)
		return; /* no payload: a bare ACK, SYN or FIN */
	__u64 n = skb->len - off;
	if (n > DNS_MAX)
		n = DNS_MAX;
	asm volatile("" : "+r"(n)); /* keep the bounds check below for the verifier */
	if (n < 1 || n > DNS_MAX)
		return;
	struct dns_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(STAT_DNS_LOST);
		return;
	}
	e->cgroup_id = bpf_skb_cgroup_id(skb);
	e->ts_ns = bpf_ktime_get_ns();
	e->family = h.family;
	e->proto = h.proto;
	e->sport = DNS_PORT;
	e->dport = bpf_ntohs(ports[1]);
	e->len = n;
	__builtin_memcpy(e->saddr, h.saddr, 16);
	__builtin_memcpy(e->daddr, h.daddr, 16);
	if (bpf_skb_load_bytes(skb, off, e->payload, n) < 0) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	bpf_ringbuf_submit(e, 0);
	count(STAT_DNS);
}

SEC("cgroup_skb/ingress")
int udp_ingress(struct __sk_buff *skb)
{
	if (of_no_interest(skb, true))
		return 1;
	dns_answer(skb);
	udp_packet(skb, OBSERVER_SERVER);
	return 1;
}

char __license[] SEC("license") = "Dual MIT/GPL";
