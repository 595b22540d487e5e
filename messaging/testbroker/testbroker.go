// Package testbroker starts a Kafka-protocol broker (kfake) on a random
// loopback port for one test. Code under test reaches it over TCP with
// kafka-go, exactly as it reaches Apache Kafka.
package testbroker

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/purchase-saga/messaging/broker"
)

// Broker is a running test broker.
type Broker struct {
	Cluster *kfake.Cluster
	Addrs   []string
}

// New starts a one-node broker with topics (partitions each) created, and
// stops it in t.Cleanup. The group session timeout floor is lowered so
// tests may use short sessions.
func New(t testing.TB, partitions int, topics ...string) *Broker {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatalf("testbroker: start: %v", err)
	}
	t.Cleanup(c.Close)
	b := &Broker{Cluster: c, Addrs: c.ListenAddrs()}
	if len(topics) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := broker.EnsureTopics(ctx, b.Addrs, topics, nil, broker.TopicOptions{Partitions: partitions}); err != nil {
			t.Fatalf("testbroker: topics: %v", err)
		}
	}
	return b
}

// ReadAll reads every record of topic from the beginning, without a
// consumer group, until it has at least want records or timeout passes.
func (b *Broker) ReadAll(t testing.TB, topic string, want int, timeout time.Duration) []kafka.Message {
	t.Helper()
	return b.ReadUntil(t, topic, func(ms []kafka.Message) bool { return len(ms) >= want }, timeout)
}

// ReadUntil reads every record of topic from the beginning, without a
// consumer group, until done says the records suffice or timeout passes:
// a test of at-least-once delivery counts distinct records, not copies.
func (b *Broker) ReadUntil(t testing.TB, topic string, done func([]kafka.Message) bool, timeout time.Duration) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		out, err := b.read(ctx, topic)
		if err != nil && ctx.Err() == nil {
			t.Logf("testbroker: read %s: %v", topic, err)
		}
		if done(out) || ctx.Err() != nil {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Broker) read(ctx context.Context, topic string) ([]kafka.Message, error) {
	client := &kafka.Client{Addr: kafka.TCP(b.Addrs...)}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	var out []kafka.Message
	for _, tp := range meta.Topics {
		for _, p := range tp.Partitions {
			msgs, err := b.readPartition(ctx, topic, p.ID)
			if err != nil {
				return out, err
			}
			out = append(out, msgs...)
		}
	}
	return out, nil
}

// readPartition reads a partition from offset 0 up to its high watermark.
func (b *Broker) readPartition(ctx context.Context, topic string, partition int) ([]kafka.Message, error) {
	conn, err := kafka.DialLeader(ctx, "tcp", b.Addrs[0], topic, partition)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil || last == 0 {
		return nil, err
	}
	if _, err := conn.Seek(0, kafka.SeekAbsolute); err != nil {
		return nil, err
	}
	var out []kafka.Message
	for len(out) == 0 || out[len(out)-1].Offset < last-1 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		batch := conn.ReadBatch(1, 16<<20)
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
		}
		if err := batch.Close(); err != nil {
			return out, err
		}
	}
	return out, nil
}
