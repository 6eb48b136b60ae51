// Package sdkdetect finds evidence of client-SDK and add-on versions for container images: tags, image labels and SBOMs.
package sdkdetect
