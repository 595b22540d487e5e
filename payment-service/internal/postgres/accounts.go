package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/payment-service/internal/payment"
)

// Account returns account id; found is false when there is none. In a
// batch (LockBatch) it is the account as the batch's commands left it.
func (s *Store) Account(ctx context.Context, id string) (a payment.Account, found bool, err error) {
	if b := s.batch(ctx); b != nil {
		return b.account(ctx, id)
	}
	err = s.tx.QueryRow(ctx, `SELECT id, balance_cents, currency FROM accounts WHERE id = $1`, id).
		Scan(&a.ID, &a.BalanceCents, &a.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Account{}, false, nil
	}
	if err != nil {
		return payment.Account{}, false, translate("read account "+id, err)
	}
	return a, true, nil
}

// CreateAccount creates an empty account id in currency unless it exists,
// and returns the account and whether it was created. Creating twice is
// harmless, so an admin may repeat the call.
func (s *Store) CreateAccount(ctx context.Context, id, currency string) (payment.Account, bool, error) {
	if err := s.outsideBatch(ctx, "create account "+id); err != nil {
		return payment.Account{}, false, err
	}
	tag, err := s.tx.Exec(ctx, `INSERT INTO accounts (id, currency) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, currency)
	if err != nil {
		return payment.Account{}, false, translate("create account "+id, err)
	}
	a, _, err := s.Account(ctx, id)
	return a, tag.RowsAffected() == 1, err
}

// lockAccount reads account id and locks its row until the transaction
// ends (DB.Update), or returns payment.ErrNotFound.
func (s *Store) lockAccount(ctx context.Context, id string) (a payment.Account, err error) {
	if err := s.outsideBatch(ctx, "update account "+id); err != nil {
		return payment.Account{}, err
	}
	err = s.tx.QueryRow(ctx, `SELECT id, balance_cents, currency FROM accounts WHERE id = $1 FOR UPDATE`, id).
		Scan(&a.ID, &a.BalanceCents, &a.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Account{}, payment.ErrNotFound
	}
	if err != nil {
		return payment.Account{}, translate("lock account "+id, err)
	}
	return a, nil
}

// saveAccount writes now, what the domain made of was (DB.Update), and
// returns it as stored with the id of its deposit. Balances plus charged
// amounts equal deposits, and money leaves an account only by a charge:
// so a rise of the balance is recorded as a deposit of the rise (0 when
// the balance did not rise), in the same round trip, and a fall, or a
// change of the id or the currency, is refused rather than written.
func (s *Store) saveAccount(ctx context.Context, was, now payment.Account) (a payment.Account, depositID int64, err error) {
	if now.ID != was.ID || now.Currency != was.Currency || now.BalanceCents < was.BalanceCents {
		return payment.Account{}, 0, fmt.Errorf("postgres: update account %s: an update may only raise the balance", was.ID)
	}
	rise := now.BalanceCents - was.BalanceCents
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE accounts SET balance_cents = $2, updated_at = now() WHERE id = $1
		RETURNING id, balance_cents, currency`, was.ID, now.BalanceCents).QueryRow(func(row pgx.Row) error {
		return row.Scan(&a.ID, &a.BalanceCents, &a.Currency)
	})
	if rise > 0 {
		batch.Queue(`INSERT INTO deposits (account_id, amount_cents) VALUES ($1, $2) RETURNING id`,
			was.ID, rise).QueryRow(func(row pgx.Row) error { return row.Scan(&depositID) })
	}
	if err := s.tx.SendBatch(ctx, batch).Close(); err != nil {
		return payment.Account{}, 0, translate("update account "+was.ID, err)
	}
	return a, depositID, nil
}

// Deposit adds amountCents to account id and records the deposit; it
// returns the account afterwards and the deposit's id, or
// payment.ErrNotFound. The API deposits through DB.Update instead; this
// deposits in the caller's transaction, with no rules but the schema's.
func (s *Store) Deposit(ctx context.Context, id string, amountCents int64) (a payment.Account, depositID int64, err error) {
	if err := s.outsideBatch(ctx, "deposit to "+id); err != nil {
		return payment.Account{}, 0, err
	}
	err = s.tx.QueryRow(ctx, `UPDATE accounts SET balance_cents = balance_cents + $2, updated_at = now()
		WHERE id = $1 RETURNING id, balance_cents, currency`, id, amountCents).Scan(&a.ID, &a.BalanceCents, &a.Currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Account{}, 0, payment.ErrNotFound
	}
	if err != nil {
		return payment.Account{}, 0, translate("deposit to "+id, err)
	}
	err = s.tx.QueryRow(ctx, `INSERT INTO deposits (account_id, amount_cents) VALUES ($1, $2) RETURNING id`,
		id, amountCents).Scan(&depositID)
	if err != nil {
		return payment.Account{}, 0, translate("record deposit to "+id, err)
	}
	return a, depositID, nil
}

// outsideBatch refuses op, a direct change of accounts, in a consumer
// batch: the batch writes the balances it holds at its commit, over it.
func (s *Store) outsideBatch(ctx context.Context, op string) error {
	if s.batch(ctx) != nil {
		return fmt.Errorf("postgres: %s in a consumer batch, which would write its own balances over it", op)
	}
	return nil
}
