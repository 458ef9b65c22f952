//! Newtypes for the two kinds of index BTF records hold.

use std::fmt;

/// A type id. Id 0 is `void`; a split BTF's ids continue after its base's.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

/// A string offset into the string section. In split BTF, offsets below the
/// split's start refer to the base's strings.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrOff(pub u32);

impl TypeId {
    /// `void`: type id 0, never a record.
    pub const VOID: TypeId = TypeId(0);
}

impl fmt::Display for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for StrOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
