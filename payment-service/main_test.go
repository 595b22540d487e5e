package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/purchase-saga/contract"
	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/service"
	"github.com/purchase-saga/messaging/servicetest"

	"github.com/purchase-saga/contract/paymentmsg"
)

func TestServiceAnswersCommandsOverTheBroker(t *testing.T) {
	url, b := servicetest.Start(t, spec, settings{contract.Shop{Currency: "EUR"}, service.Admin{AdminToken: servicetest.AdminToken}})
	servicetest.Admin(t, http.MethodPut, url+"/accounts/c1", "", servicetest.AdminToken)
	servicetest.Admin(t, http.MethodPost, url+"/accounts/c1/deposits", `{"amount_cents":1000}`, servicetest.AdminToken)
	charge := func(order string, cents int64) kafka.Message {
		return servicetest.Command(t, topic.Payment, paymentmsg.TypeCharge, order,
			paymentmsg.Charge{OrderID: order, CustomerID: "c1", AmountCents: cents, Currency: "EUR"})
	}

	servicetest.Send(t, b,
		charge("o1", 400), charge("o2", 2000), charge("o3", 0),
		kafka.Message{Topic: topic.Payment, Key: []byte("o4"), Value: []byte("not json")},
		servicetest.Command(t, topic.PaymentCompensation, paymentmsg.TypeRefund, "o5", paymentmsg.Refund{OrderID: "o5"}),
	)

	if got := servicetest.Types(t, b.ReadAll(t, topic.PaymentSuccess, 2, 30*time.Second)); got != "payment.charged,payment.refunded" {
		t.Errorf("payment.success carries %s, want one payment.charged and one payment.refunded", got)
	}
	servicetest.CheckDeadLetters(t, b, topic.PaymentDLT,
		map[string]string{"o2": "rejected from payment", "o3": "poison from payment", "o4": "poison from payment"})
	res := servicetest.Do(t, http.MethodGet, url+"/accounts/c1", "", "", "")
	var acct struct {
		BalanceCents int64 `json:"balance_cents"`
	}
	if err := json.Unmarshal([]byte(res.Raw), &acct); err != nil || acct.BalanceCents != 600 {
		t.Errorf("balance %d (%v), want 600", acct.BalanceCents, err)
	}
}
