// Package timeline gathers what one saga left behind, from the three
// databases and the broker, into one list sorted by time: the order and
// its steps, every outbox row it caused, every record keyed by its id on
// the saga's topics, and its dead letters. sagactl saga show prints it as
// text and the console as a page, from the same Lines, so that the two
// cannot tell different stories.
package timeline

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Databases, as sagactl names them (--db NAME=URL).
const (
	OrderDB   = "order"
	StockDB   = "stock"
	PaymentDB = "payment"
)

// DatabaseNames are the databases a timeline reads, in that order.
var DatabaseNames = []string{OrderDB, StockDB, PaymentDB}

// Sources are where a timeline is read from. A database or the brokers
// left out are said so in the timeline's notes.
type Sources struct {
	// DBs are the services' databases by name (OrderDB, StockDB, PaymentDB).
	DBs map[string]*pgxpool.Pool
	// Brokers are the Kafka brokers.
	Brokers []string
	// Topics are scanned for records keyed by the order id (default:
	// every saga topic but items, which is keyed by item).
	Topics []string
	// MaxRecords bounds the records read per topic (default 100,000).
	MaxRecords int64
	// Before is how long before the order's creation the scan of each
	// topic starts (default one minute: clocks of other hosts).
	Before time.Duration
}

// Timeline is what one saga left behind.
type Timeline struct {
	OrderID string
	// Order is the order row; nil when the order database has none.
	Order *Order
	// Events are sorted by time.
	Events []Event
	// Notes say what the timeline could not show, and why.
	Notes []string
	// TraceIDs are the traces of the traceparent headers its outbox rows
	// and records carry, the most carried first: one, unless a message
	// was sent from elsewhere.
	TraceIDs []string

	traces map[string]int // trace id -> messages that carry it
}

// Order is an order row.
type Order struct {
	ID            string
	CustomerID    string
	Lines         []OrderLine
	AmountCents   int64
	Currency      string
	Status        string
	FailureReason string
	Steps         []Step
	Deadline      time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OrderLine is a line of an order.
type OrderLine struct {
	ItemID         string `json:"item_id"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// Step is the state of one saga step.
type Step struct {
	Name      string    `json:"-"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Kinds of events.
const (
	KindOrder      = "order"       // the order row: placed, ended
	KindStep       = "step"        // a step's last change
	KindOutbox     = "outbox"      // an outbox row
	KindRecord     = "record"      // a record on a saga topic
	KindDeadLetter = "dead-letter" // a record on a .dlt topic
)

// Event is one thing that happened to the saga.
type Event struct {
	At   time.Time
	Kind string
	// Source is where it was seen: "order", "orderdb outbox", "topic",
	// "dead letter".
	Source string
	// Where places it: an outbox row's id, a record's topic/partition/offset.
	Where string
	// What is the message type, or what happened to the order.
	What string
	// Detail says the rest: status, reason, error, message id.
	Detail string
	// MessageID is the message's id, when it is a message.
	MessageID string
	// Topic is the dead letter's topic (for a link to replay it).
	Topic string
}
