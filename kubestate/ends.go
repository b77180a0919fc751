package kubestate

import (
	"sync"

	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// endTable numbers ends once for the resolver's lifetime; id 0 is none.
type endTable struct {
	mu  sync.RWMutex
	ids map[topology.End]resolve.EndID
	all []topology.End
	// apiServer is the API server's end, numbered first.
	apiServer resolve.EndID
}

func newEndTable() endTable {
	api := topology.End{Kind: topology.KindAPIServer}
	return endTable{ids: map[topology.End]resolve.EndID{{}: 0, api: 1}, all: []topology.End{{}, api}, apiServer: 1}
}

func (t *endTable) intern(e topology.End) resolve.EndID {
	t.mu.RLock()
	id, ok := t.ids[e]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[e]; ok {
		return id
	}
	id = resolve.EndID(len(t.all))
	t.all = append(t.all, e)
	t.ids[e] = id
	return id
}

func (t *endTable) end(id resolve.EndID) topology.End {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.all[id]
}
