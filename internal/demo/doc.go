// Package demo is flowpol's first run: on this machine, with nothing but
// the repository, it builds a small cluster of network-namespace pods on a
// bridge (internal/testpods' Node), runs a real microservice app in them
// (a frontend, a catalog and a cart service, a database, a cache, a DNS
// server, a load generator, and a payments endpoint outside the cluster on
// 203.0.113.10), writes the cluster's inventory, learns its traffic with
// the live collector while the load generator drives the app, generates
// the policies, prints them with the topology, checks them, and enforces
// them (when flowpol has an enforce command), showing that the learned
// traffic still flows and a connection nobody made while learning is
// dropped.
//
// It runs flowpol as a separate program, as a user would, and the app's
// processes as this program again (MaybeRunRole). It needs Linux and root.
// Everything it makes (network namespaces, and with them the bridge and
// veths, cgroups, processes) is removed when Run returns, also when its
// context is cancelled; a run killed outright is cleaned up by the next
// one, which finds its leftovers by their name prefix.
package demo
