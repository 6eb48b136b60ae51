// Package reports turns one judged workload into the OpenReports Report
// (openreports.io/v1alpha1) that `tokenguard controller` writes for it, or
// into the wgpolicyk8s.io/v1alpha2 PolicyReport written where only those
// CRDs exist; it is pure: no client, no clock, the same input gives the
// same object.
//
// One Report per workload, owned by it. The ownerReference (not a
// controller reference, and blocking nothing) lets the garbage collector
// delete the report with its workload, so no sweep of orphans is needed;
// each report stays small (the findings of one workload's containers),
// far below etcd's object size limit however large a namespace grows; and
// a workload that changes costs one write of its own report, where a
// report per namespace would rewrite every workload's results and make
// concurrent writers conflict. The report's name comes from the workload's
// kind and name (Name), so the controller finds it without a list.
//
// The controller writes only when the content changed: Build stamps the
// content-hash annotation (ContentHash), which leaves out the result
// timestamps and whatever the API server fills in, and Equal compares two
// reports the same way.
package reports
