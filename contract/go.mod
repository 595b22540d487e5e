module github.com/purchase-saga/contract

go 1.26.8
