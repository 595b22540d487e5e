package participant_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/purchase-saga/messaging/consumer"
	"github.com/purchase-saga/messaging/participant"
	"github.com/purchase-saga/messaging/participant/participanttest"
	msgpg "github.com/purchase-saga/messaging/postgres"
	"github.com/purchase-saga/messaging/schema"
	"github.com/purchase-saga/messaging/testdb"
)

// take is the action of the smallest participant there is: take units
// from a pot; give gives them back.
type take struct {
	Saga     string    `json:"saga"`
	Pot      string    `json:"pot"`
	Units    int64     `json:"units"`
	Deadline time.Time `json:"deadline,omitzero"`
}

type give struct {
	Saga string `json:"saga"`
}

// record is what the pots keep of a saga: what it took, and its status.
type record struct {
	Saga   string
	Pot    string
	Units  int64
	Status participant.Status
}

// pots is that participant's effect, and potsTx its unit of work,
// written with one statement at a time: the kit's rules do not depend on
// a store's write-behind.
type pots struct{}

type potsTx struct{ tx pgx.Tx }

func (pots) Command(d consumer.Delivery) (participant.Command[take], error) {
	var c take
	if err := consumer.DecodeData(d, &c, func() string { return c.Saga }); err != nil {
		return participant.Command[take]{}, err
	}
	if c.Units < 1 {
		return participant.Command[take]{}, consumer.Poison(errors.New("nothing to take"))
	}
	return participant.Command[take]{Saga: c.Saga, Deadline: c.Deadline, Locks: []string{c.Pot}, Value: c}, nil
}

func (p potsTx) LockBatch(ctx context.Context, sagas, _, _ []string) error {
	return msgpg.LockKeys(ctx, p.tx, sagas)
}

func (p potsTx) Record(ctx context.Context, saga string) (record, bool, error) {
	r := record{Saga: saga}
	err := p.tx.QueryRow(ctx, `SELECT pot, units, status FROM records WHERE saga = $1`, saga).Scan(&r.Pot, &r.Units, &r.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return record{}, false, nil
	}
	return r, true, err
}

func (pots) Apply(ctx context.Context, p potsTx, c participant.Command[take]) (record, *participant.Refusal, error) {
	tag, err := p.tx.Exec(ctx, `UPDATE pots SET units = units - $2 WHERE id = $1 AND units >= $2`, c.Value.Pot, c.Value.Units)
	if err != nil {
		return record{}, nil, err
	}
	if tag.RowsAffected() == 0 {
		return record{}, &participant.Refusal{Reason: "empty", Detail: "the pot holds too little"}, nil
	}
	r := record{Saga: c.Saga, Pot: c.Value.Pot, Units: c.Value.Units, Status: participant.Done}
	_, err = p.tx.Exec(ctx, `INSERT INTO records VALUES ($1, $2, $3, $4)`, c.Saga, r.Pot, r.Units, r.Status)
	return r, nil, err
}

func (p potsTx) Give(ctx context.Context, r record) error {
	if _, err := p.tx.Exec(ctx, `UPDATE records SET status = $2 WHERE saga = $1`, r.Saga, participant.Undone); err != nil {
		return err
	}
	_, err := p.tx.Exec(ctx, `UPDATE pots SET units = units + $2 WHERE id = $1`, r.Pot, r.Units)
	return err
}

func (p potsTx) Tombstone(ctx context.Context, saga string) error {
	_, err := p.tx.Exec(ctx, `INSERT INTO records VALUES ($1, '', 0, $2)`, saga, participant.Tombstone)
	return err
}

func (pots) Done(saga string, r record) any   { return map[string]any{"saga": saga, "units": r.Units} }
func (pots) Undone(saga string, r record) any { return map[string]any{"saga": saga, "units": r.Units} }
func (pots) Rejected(saga string, r participant.Refusal) any {
	return map[string]any{"saga": saga, "reason": r.Reason}
}

// potsSpec is the pots participant.
var potsSpec = participant.Spec[potsTx, take, record]{
	Step: step, Effect: pots{}, Service: "pots-service", Cancelled: "given back before taken",
	Unit:         func(tx pgx.Tx) potsTx { return potsTx{tx} },
	Compensation: participant.DecodeCompensation(func(g *give) string { return g.Saga }),
	Records: participant.Records[potsTx, record]{
		LockBatch: potsTx.LockBatch, Read: potsTx.Record, Undo: potsTx.Give, Tombstone: potsTx.Tombstone,
		Status: func(r record) participant.Status { return r.Status },
	},
}

func migrate(ctx context.Context, db *sql.DB) error {
	if err := schema.Up(ctx, db); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE pots (id text PRIMARY KEY, units bigint NOT NULL);
		CREATE TABLE records (saga text PRIMARY KEY, pot text NOT NULL, units bigint NOT NULL, status int NOT NULL)`)
	return err
}

var step = participant.Step{
	Name: "pots", Command: "pots", Compensation: "pots.compensation", Replies: "pots.success", Rejections: "pots.dlt",
	CommandType: "pots.take", CompensationType: "pots.give", DoneType: "pots.taken", UndoneType: "pots.given", RejectedType: "pots.rejected",
}

// The kit, with the smallest effect, obeys every rule of the suite.
func TestKitObeysTheParticipantRules(t *testing.T) {
	exec := func(t *testing.T, db *testdb.DB, sql string) {
		if _, err := db.Pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	participanttest.Run(t, participanttest.Harness{
		Step: step,
		Open: func(t *testing.T) (*testdb.DB, participanttest.Participant) {
			return testdb.New(t, migrate), participant.New(potsSpec)
		},
		Seed:  func(t *testing.T, db *testdb.DB) { exec(t, db, `INSERT INTO pots VALUES ('full', 1000), ('low', 1)`) },
		Allow: func(t *testing.T, db *testdb.DB) { exec(t, db, `UPDATE pots SET units = 100 WHERE id = 'low'`) },
		Command: func(saga string, refused bool, deadline time.Time) any {
			if refused {
				return take{Saga: saga, Pot: "low", Units: 5, Deadline: deadline}
			}
			return take{Saga: saga, Pot: "full", Units: 2, Deadline: deadline}
		},
		Compensation: func(saga string) any { return give{Saga: saga} },
		State: func(t *testing.T, db *testdb.DB) string {
			var s string
			if err := db.Pool.QueryRow(context.Background(),
				`SELECT string_agg(concat_ws(' ', id, units), ', ' ORDER BY id) FROM pots`).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}
