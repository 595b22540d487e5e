package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/envelope"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/stockmsg"
)

func TestServiceAnswersCommandsOverTheBroker(t *testing.T) {
	url, b := servicetest.Start(t, spec, settings{contract.Shop{Currency: "EUR"}, service.Admin{AdminToken: servicetest.AdminToken}})
	servicetest.Admin(t, http.MethodPut, url+"/items/a", `{"name":"A","price_cents":100,"currency":"EUR"}`, servicetest.AdminToken)
	servicetest.Admin(t, http.MethodPost, url+"/items/a/restock", `{"quantity":5}`, servicetest.AdminToken)

	servicetest.Send(t, b,
		servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, "o1", stockmsg.Reserve{OrderID: "o1", Lines: []stockmsg.Line{{ItemID: "a", Quantity: 2}}}),
		servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, "o2", stockmsg.Reserve{OrderID: "o2", Lines: []stockmsg.Line{{ItemID: "a", Quantity: 9}}}),
		servicetest.Command(t, topic.Stock, stockmsg.TypeReserve, "o3", stockmsg.Reserve{OrderID: "o3"}),
		kafka.Message{Topic: topic.Stock, Key: []byte("o4"), Value: []byte("not json")},
		servicetest.Command(t, topic.StockCompensation, stockmsg.TypeRelease, "o5", stockmsg.Release{OrderID: "o5"}),
	)

	if got := servicetest.Types(t, b.ReadAll(t, topic.StockSuccess, 2, 30*time.Second)); got != "stock.released,stock.reserved" {
		t.Errorf("stock.success carries %s, want one stock.reserved and one stock.released", got)
	}
	servicetest.CheckDeadLetters(t, b, topic.StockDLT,
		map[string]string{"o2": "rejected from stock", "o3": "poison from stock", "o4": "poison from stock"})
	items := b.ReadAll(t, topic.Items, 3, 30*time.Second)
	if len(items) != 3 {
		t.Fatalf("items topic has %d records, want 3 (put, restock, reserve)", len(items))
	}
	var last stockmsg.ItemUpdated
	e, _ := envelope.Decode(items[2].Value)
	if err := json.Unmarshal(e.Data, &last); err != nil || last.Available != 3 || string(items[2].Key) != "a" {
		t.Errorf("last item.updated = %+v key %s, want item a available 3", last, items[2].Key)
	}
}
