package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/outbox"
)

// Tx is the unit of work of one transaction: its orders, its catalog and
// its outbox, which commit or roll back together.
type Tx struct {
	Orders  OrdersTx
	Catalog CatalogTx
	Outbox  Outbox
}

// NewTx returns the unit of work of tx, which its owner commits: Store's
// InTx, or a consumer whose handler is handed its batch's transaction.
func NewTx(tx pgx.Tx) *Tx {
	return &Tx{
		Orders:  OrdersTx{Orders: Orders{q: tx}, tx: tx},
		Catalog: CatalogTx{Catalog: Catalog{q: tx}, tx: tx},
		Outbox:  Outbox{tx: tx},
	}
}

// Outbox writes messages in the transaction, to be relayed once it
// commits.
type Outbox struct {
	tx pgx.Tx
}

// Write writes records (outbox.Write): in a transaction with hooks just
// before the commit, with every other record of the transaction.
func (o Outbox) Write(ctx context.Context, records ...outbox.Record) error {
	return outbox.Write(ctx, o.tx, records...)
}
