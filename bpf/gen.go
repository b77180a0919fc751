// Package bpf holds flowpol's eBPF programs, compiled ahead of time: the C
// sources here and the objects and Go bindings bpf2go generates from them,
// committed so that building flowpol needs no C compiler. `make generate`
// regenerates them (it needs clang and libbpf's headers), for amd64 and
// arm64 alike: bpf2go defines __TARGET_ARCH_x86 or __TARGET_ARCH_arm64 for
// each, the only difference being the kprobes' register names; every kernel
// struct is relocated (CO-RE), and the Go types are the same on both.
//
// Nothing here attaches anything: the collector and the enforcer load and
// attach these programs and own their maps.
package bpf

//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 -output-stem flows_bpf -type event -type dns_event -type stat Flows flows.c -- -I.
//go:generate go tool bpf2go -tags linux -cc clang -cflags "-O2 -g -Wall -Werror" -target amd64,arm64 -output-stem enforce_bpf -type verdict -type stat -type tuple -type ct_val -type policy_key -type lpm_addr -type endpoint -type state -type cached Enforce enforce.c -- -I.
