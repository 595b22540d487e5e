package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	msgpg "github.com/purchase-saga/messaging/postgres"

	"github.com/purchase-saga/stock-service/internal/stock"
)

// batchKey keys a consumer batch's state in its transaction.
type batchKey struct{}

// batch is what a consumer batch holds in its transaction: the items it
// locked (and which ids were asked for, existing or not) and the
// reservations of its orders, read once by LockBatch and then changed in
// memory by the batch's commands. The changes are written just before the
// commit (flush), a few statements for the whole batch whatever its size:
// every row they touch is locked by this transaction, so nobody else can
// change it in between.
type batch struct {
	items        map[string]stock.Item
	asked        map[string]bool
	reservations map[string]*stock.Reservation // nil: none yet

	// What the batch changed and has not written yet, in the order of the
	// first change; sagaOf is the order that first changed each item, the
	// saga of its snapshot.
	changedItems        []string
	sagaOf              map[string]string
	changedReservations []string
	unwritten           map[string]bool // of changedReservations
}

func newBatch() *batch {
	return &batch{items: map[string]stock.Item{}, asked: map[string]bool{},
		reservations: map[string]*stock.Reservation{}, sagaOf: map[string]string{}, unwritten: map[string]bool{}}
}

func (s *Store) batch(ctx context.Context) *batch {
	v, ok := msgpg.TxValue(ctx, batchKey{})
	if !ok {
		return nil
	}
	return v.(*batch)
}

// LockBatch takes, for a consumer batch, the locks of orderIDs (in one
// global order) and of the items, those of items and those the released
// orders hold, in id order; and reads the reservations of orderIDs. From
// then on the store works write-behind in this transaction: Reserve,
// Release and Tombstone change the batch in memory, LockItems and
// Reservation read it there, and everything changed is written, with the
// changed items' snapshots, just before the commit (Item and Items, which
// read the table, do not see them before). ctx must be the
// transaction's (see postgres.WithTxHooks); without hooks LockBatch only
// locks, and the store changes the rows at once.
//
// It does so in one round trip, a pgx.Batch whose statements the server
// runs in order, so that the locks are taken in the same global order as
// one statement at a time: the orders' advisory locks
// (msgpg.QueueLockKeys, which the hooks then know), then,
// with releases, the released orders' items (ReservedItems), then the
// item rows in id order, those of the released orders found by the same
// statement, then the reservations. The released orders' reservations
// cannot change in between: their orders are locked.
func (s *Store) LockBatch(ctx context.Context, orderIDs, items, releases []string) error {
	q := &pgx.Batch{}
	prelude := msgpg.TakePrelude(ctx, q) // the consumer's inbox claim
	locked := msgpg.QueueLockKeys(ctx, q, orderIDs)
	if len(releases) > 0 {
		q.Queue(reservedItemsSQL, releases, stock.Reserved)
		q.Queue(lockReleasedItemsSQL, releases, stock.Reserved, items)
	} else if len(items) > 0 {
		q.Queue(lockItemsSQL, items)
	}
	if len(orderIDs) > 0 {
		q.Queue(reservationsSQL, orderIDs)
	}
	b := newBatch()
	if q.Len() == 0 {
		msgpg.SetTxValue(ctx, batchKey{}, b)
		return nil
	}
	br := s.tx.SendBatch(ctx, q)
	defer br.Close()
	if err := prelude(br); err != nil {
		return err
	}
	if err := locked(br); err != nil {
		return err
	}
	var reserved []string
	if len(releases) > 0 {
		rows, _ := br.Query()
		var err error
		if reserved, err = collectReservedItems(rows); err != nil {
			return err
		}
	}
	if len(releases) > 0 || len(items) > 0 {
		rows, _ := br.Query()
		locked, err := pgx.CollectRows(rows, scanItem)
		if err != nil {
			return translate("lock items", err)
		}
		for _, id := range slices.Concat(items, reserved) {
			b.asked[id] = true
		}
		for _, it := range locked {
			b.items[it.ID] = it
		}
	}
	if len(orderIDs) > 0 {
		rows, _ := br.Query()
		if err := b.addReservations(rows, orderIDs); err != nil {
			return err
		}
	}
	if err := br.Close(); err != nil {
		return translate("lock batch", err)
	}
	msgpg.SetTxValue(ctx, batchKey{}, b)
	return nil
}

// lockItemsSQL locks and reads the items of $1 in id order (as hold does:
// the same statement).
const lockItemsSQL = `SELECT ` + itemColumns + ` FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE`

// lockReleasedItemsSQL locks and reads, in id order, the items of $3 and
// those of the Reserved reservations of the orders of $1 ($2 is
// stock.Reserved): the released orders' items are read, once, before the
// rows are sorted and locked, so that all the rows are locked in one
// global order.
const lockReleasedItemsSQL = `SELECT ` + itemColumns + ` FROM items
		WHERE id = ANY($3::text[] || ARRAY(SELECT l->>'item_id' ` + reservedLines + `)) ORDER BY id FOR UPDATE`

// held returns the items of ids that b holds: those that exist.
func (b *batch) held(ids []string) map[string]stock.Item {
	out := make(map[string]stock.Item, len(ids))
	for _, id := range ids {
		if it, ok := b.items[id]; ok {
			out[id] = it
		}
	}
	return out
}

// reservation returns what b knows of orderID's reservation: ok says
// there is one, known that b read it.
func (b *batch) reservation(orderID string) (r stock.Reservation, ok, known bool) {
	p, known := b.reservations[orderID]
	if !known || p == nil {
		return stock.Reservation{}, false, known
	}
	return *p, true, true
}

// setItem records it as a command of order sagaID left it, to be written.
func (b *batch) setItem(sagaID string, it stock.Item) {
	if _, ok := b.sagaOf[it.ID]; !ok {
		b.sagaOf[it.ID] = sagaID
		b.changedItems = append(b.changedItems, it.ID)
	}
	b.items[it.ID] = it
}

// setReservation records r as a command left it, to be written.
func (b *batch) setReservation(r stock.Reservation) {
	if !b.unwritten[r.OrderID] {
		b.unwritten[r.OrderID] = true
		b.changedReservations = append(b.changedReservations, r.OrderID)
	}
	b.reservations[r.OrderID] = &r
}
