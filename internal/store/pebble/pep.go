package pebble

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/parley-im/parley/internal/store"
)

// PEP keys (XEP-0163 personal eventing):
//
//	'e' c(owner) c(node)         node: configuration and the next item seq
//	'e' c(owner) c(node) c(id)   item: seq, published time, payload
//
// A node's key is the prefix of its items' keys and sorts first, so one
// iterator reads a node with its items. Items are ordered by seq (newest
// highest); every change of a user's nodes runs under the user's shard lock.
const prefixPEP = 'e'

func pepPrefix(owner string) []byte { return userKey(prefixPEP, owner) }

func pepNodeKey(owner, node string) []byte { return appendComponent(pepPrefix(owner), node) }

func pepItemKey(owner, node, id string) []byte {
	return appendComponent(pepNodeKey(owner, node), id)
}

// pepNode is a node record: its configuration and the seq of its next item.
type pepNode struct {
	cfg  store.PEPNode
	next uint64
}

// pepItem is an item record.
type pepItem struct {
	seq  uint64
	item store.PEPItem
}

func encodePEPNode(n pepNode) []byte {
	b := appendString([]byte{recordV1}, n.cfg.Access)
	b = binary.AppendUvarint(b, uint64(n.cfg.MaxItems))
	return binary.AppendUvarint(b, n.next)
}

func decodePEPNode(what string, v []byte) (pepNode, error) {
	r := newReader(v)
	n := pepNode{cfg: store.PEPNode{Access: r.string(), MaxItems: int(r.uvarint())}, next: r.uvarint()}
	return n, r.done(what)
}

func encodePEPItem(it pepItem) []byte {
	b := binary.AppendUvarint([]byte{recordV1}, it.seq)
	b = appendTime(b, it.item.Published)
	return appendBytes(b, it.item.Payload)
}

func decodePEPItem(id string, v []byte) (pepItem, error) {
	r := newReader(v)
	it := pepItem{seq: r.uvarint()}
	it.item = store.PEPItem{ID: id, Published: r.time(), Payload: r.bytes()}
	return it, r.done("pep item " + id)
}

// GetPEPNode implements store.PEP.
func (s *Store) GetPEPNode(ctx context.Context, owner, node string) (store.PEPNode, error) {
	if err := s.enter(ctx); err != nil {
		return store.PEPNode{}, err
	}
	defer s.exit()
	n, err := s.readPEPNode(owner, node)
	return n.cfg, err
}

func (s *Store) readPEPNode(owner, node string) (pepNode, error) {
	v, err := s.get(pepNodeKey(owner, node))
	if err != nil {
		return pepNode{}, fmt.Errorf("pep node %s of %s: %w", node, owner, err)
	}
	return decodePEPNode("pep node "+node, v)
}

// PutPEPNode implements store.PEP.
func (s *Store) PutPEPNode(ctx context.Context, owner, node string, cfg store.PEPNode) error {
	return s.changePEP(ctx, owner, func(b *pebble.Batch) error {
		n, err := s.readPEPNode(owner, node)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		n.cfg = cfg
		_ = b.Set(pepNodeKey(owner, node), encodePEPNode(n), nil)
		return s.trimPEP(b, owner, node, cfg.MaxItems, nil)
	})
}

// ListPEPNodes implements store.PEP: it seeks from node to node, skipping
// their items.
func (s *Store) ListPEPNodes(ctx context.Context, owner string) (out []string, err error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	p := pepPrefix(owner)
	it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	out = []string{}
	for ok := it.First(); ok; ok = it.SeekGE(prefixEnd(it.Key())) {
		node, rest, ok := decodeComponent(it.Key()[len(p):])
		if !ok || len(rest) != 0 {
			return nil, fmt.Errorf("%w: pep key %q", errCorrupt, it.Key())
		}
		out = append(out, node)
	}
	return out, nil
}

// DeletePEPNode implements store.PEP with one range delete.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	return s.changePEP(ctx, owner, func(b *pebble.Batch) error {
		if _, err := s.readPEPNode(owner, node); err != nil {
			return err
		}
		k := pepNodeKey(owner, node)
		_ = b.DeleteRange(k, prefixEnd(k), nil)
		return nil
	})
}

// PutPEPItem implements store.PEP.
func (s *Store) PutPEPItem(ctx context.Context, owner, node string, item store.PEPItem) error {
	return s.changePEP(ctx, owner, func(b *pebble.Batch) error {
		n, err := s.readPEPNode(owner, node)
		if err != nil {
			return err
		}
		n.next++
		_ = b.Set(pepNodeKey(owner, node), encodePEPNode(n), nil)
		_ = b.Set(pepItemKey(owner, node, item.ID), encodePEPItem(pepItem{seq: n.next, item: item}), nil)
		return s.trimPEP(b, owner, node, n.cfg.MaxItems-1, &item.ID)
	})
}

// GetPEPItems implements store.PEP.
func (s *Store) GetPEPItems(ctx context.Context, owner, node string, max int) ([]store.PEPItem, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.exit()
	if _, err := s.readPEPNode(owner, node); err != nil {
		return nil, err
	}
	items, err := s.readPEPItems(owner, node)
	if err != nil {
		return nil, err
	}
	if max > 0 && len(items) > max {
		items = items[:max]
	}
	out := make([]store.PEPItem, len(items))
	for i, it := range items {
		out[i] = it.item
	}
	return out, nil
}

// readPEPItems returns a node's items, newest first.
func (s *Store) readPEPItems(owner, node string) (items []pepItem, err error) {
	k := pepNodeKey(owner, node)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: k, UpperBound: prefixEnd(k)})
	if err != nil {
		return nil, fmt.Errorf("pebble store: %w", err)
	}
	defer closeIter(it, &err)
	for ok := it.First(); ok; ok = it.Next() {
		if len(it.Key()) == len(k) {
			continue // the node record
		}
		id, _, ok := decodeComponent(it.Key()[len(k):])
		if !ok {
			return nil, fmt.Errorf("%w: pep item key %q", errCorrupt, it.Key())
		}
		pi, err := decodePEPItem(id, it.Value())
		if err != nil {
			return nil, err
		}
		items = append(items, pi)
	}
	slices.SortFunc(items, func(a, b pepItem) int { return cmp.Compare(b.seq, a.seq) })
	return items, nil
}

// DeletePEPItem implements store.PEP.
func (s *Store) DeletePEPItem(ctx context.Context, owner, node, id string) error {
	return s.changePEP(ctx, owner, func(b *pebble.Batch) error {
		if _, err := s.get(pepItemKey(owner, node, id)); err != nil {
			return fmt.Errorf("pep item %s in %s of %s: %w", id, node, owner, err)
		}
		_ = b.Delete(pepItemKey(owner, node, id), nil)
		return nil
	})
}

// trimPEP deletes the node's items beyond the newest keep (not counting
// the item except, which is being replaced).
func (s *Store) trimPEP(b *pebble.Batch, owner, node string, keep int, except *string) error {
	items, err := s.readPEPItems(owner, node)
	if err != nil {
		return err
	}
	kept := 0
	for _, it := range items {
		if except != nil && it.item.ID == *except {
			continue
		}
		if kept >= max(keep, 0) {
			_ = b.Delete(pepItemKey(owner, node, it.item.ID), nil)
			continue
		}
		kept++
	}
	return nil
}

// changePEP runs fill under the owner's shard lock and applies its batch
// durably: reads in fill see every earlier change of the owner's nodes.
func (s *Store) changePEP(ctx context.Context, owner string, fill func(*pebble.Batch) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.exit()
	sh := s.shard(owner)
	sh.mu.Lock()
	b := s.db.NewBatch()
	if err := fill(b); err != nil {
		sh.mu.Unlock()
		_ = b.Close()
		return err
	}
	if b.Empty() {
		sh.mu.Unlock()
		_ = b.Close()
		return nil
	}
	err := s.applyLocked(b, true)
	sh.mu.Unlock()
	if err != nil {
		return err
	}
	return s.finish(b)
}

var _ store.PEP = (*Store)(nil)
