module github.com/purchase-saga/payment-service

go 1.26.8

require (
	github.com/purchase-saga/messaging v0.0.0
	github.com/purchase-saga/migrations v0.0.0
)

replace github.com/purchase-saga/messaging => ../messaging

replace github.com/purchase-saga/migrations => ../migrations
