// Package sdktest runs the Go SDK (module github.com/gatehouse-auth/gatehouse/sdk)
// against real Gatehouse servers: verification of live tokens, key
// rotation, the revocation feed, the net/http middleware, hostile tokens
// made with the server's own key ids, and the app-backend client. The
// SDK's own unit tests live in its module.
package sdktest
