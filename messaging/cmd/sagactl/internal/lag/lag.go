// Package lag reads how far behind each service is: its outbox (rows not
// yet published) and its consumer groups (committed offsets against the
// ends of the partitions they consume).
package lag

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/messaging/outbox"
)

// Report is the lag of every service.
type Report struct {
	Outboxes []Outbox
	Groups   []Group
	// Notes say what could not be read.
	Notes []string
}

// Outbox is one database's outbox backlog.
type Outbox struct {
	Database string
	outbox.Status
}

// Group is one consumer group's lag, by topic.
type Group struct {
	// Service is the service the group belongs to (its name's prefix).
	Service string
	Group   string
	Topics  []Topic
	Lag     int64
}

// Topic is a group's lag on one topic.
type Topic struct {
	Topic      string
	Partitions int
	// Committed and End sum the committed offsets (a partition's start
	// where the group has committed nothing) and the ends of the
	// partitions; Lag is what lies between them.
	Committed, End, Lag int64
}

// Read reads the outboxes of dbs (in the order of names) and the consumer
// groups on brokers.
func Read(ctx context.Context, dbs map[string]*pgxpool.Pool, names []string, brokers []string) Report {
	var r Report
	for _, name := range names {
		pool := dbs[name]
		if pool == nil {
			continue
		}
		st, err := outbox.ReadStatus(ctx, pool)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("%s database: %v", name, err))
			continue
		}
		r.Outboxes = append(r.Outboxes, Outbox{Database: name, Status: st})
	}
	if len(brokers) == 0 {
		r.Notes = append(r.Notes, "no brokers given: consumer lag is not shown")
		return r
	}
	groups, err := readGroups(ctx, &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second})
	if err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("broker: %v", err))
	}
	r.Groups = groups
	return r
}

// ServiceOf names the service of consumer group g: the services' groups
// are the service's name, or it followed by what the group consumes
// (stock-service-compensation).
func ServiceOf(g string) string {
	if i := strings.Index(g, "-service"); i >= 0 {
		return g[:i+len("-service")]
	}
	return g
}

func readGroups(ctx context.Context, client *kafka.Client) ([]Group, error) {
	list, err := client.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	if list.Error != nil {
		return nil, fmt.Errorf("list groups: %w", list.Error)
	}
	var out []Group
	for _, g := range list.Groups {
		grp, err := readGroup(ctx, client, g.GroupID)
		if err != nil {
			return out, err
		}
		out = append(out, grp)
	}
	slices.SortFunc(out, func(a, b Group) int { return cmp.Compare(a.Group, b.Group) })
	return out, nil
}

func readGroup(ctx context.Context, client *kafka.Client, group string) (Group, error) {
	g := Group{Service: ServiceOf(group), Group: group}
	committed, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group})
	if err != nil {
		return g, fmt.Errorf("offsets of group %s: %w", group, err)
	}
	if committed.Error != nil {
		return g, fmt.Errorf("offsets of group %s: %w", group, committed.Error)
	}
	var topics []string
	for t := range committed.Topics {
		topics = append(topics, t)
	}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return g, fmt.Errorf("topics of group %s: %w", group, err)
	}
	// Every partition of the group's topics counts: one it has not
	// committed on yet lags by every record it holds.
	req := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			req[t.Name] = append(req[t.Name], kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return g, fmt.Errorf("ends of group %s's topics: %w", group, err)
	}
	for t, ps := range ends.Topics {
		at := map[int]int64{}
		for _, p := range committed.Topics[t] {
			if p.CommittedOffset >= 0 {
				at[p.Partition] = p.CommittedOffset
			}
		}
		tl := Topic{Topic: t, Partitions: len(ps)}
		for _, p := range ps {
			c, ok := at[p.Partition]
			if !ok {
				c = p.FirstOffset
			}
			tl.Committed += c
			tl.End += p.LastOffset
			tl.Lag += max(p.LastOffset-c, 0)
		}
		g.Topics = append(g.Topics, tl)
		g.Lag += tl.Lag
	}
	slices.SortFunc(g.Topics, func(a, b Topic) int { return cmp.Compare(a.Topic, b.Topic) })
	return g, nil
}
