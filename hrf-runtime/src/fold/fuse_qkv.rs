//! TODO(fuse_qkv)
