package trace

import (
	"github.com/segmentio/kafka-go"
)

// KafkaHeaders carries a trace in a Kafka record's headers, as the relay
// publishes it and a consumer reads it: a propagation.TextMapCarrier over
// kafka-go's []kafka.Header. Set replaces a header of the same key.
type KafkaHeaders struct{ Headers *[]kafka.Header }

// Get returns the value of the first header named key, "" when none is.
func (c KafkaHeaders) Get(key string) string {
	for _, h := range *c.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// Set sets header key to value, replacing the first header of that key.
func (c KafkaHeaders) Set(key, value string) {
	for i, h := range *c.Headers {
		if h.Key == key {
			(*c.Headers)[i].Value = []byte(value)
			return
		}
	}
	*c.Headers = append(*c.Headers, kafka.Header{Key: key, Value: []byte(value)})
}

// Keys returns the headers' keys.
func (c KafkaHeaders) Keys() []string {
	keys := make([]string, len(*c.Headers))
	for i, h := range *c.Headers {
		keys[i] = h.Key
	}
	return keys
}
