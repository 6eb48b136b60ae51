// Package imageref is tokenguard's one grammar of container image references: it parses them, and normalises Docker Hub and Amazon ECR names, in one place.
package imageref
