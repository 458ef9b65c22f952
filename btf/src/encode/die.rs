//! Reading one DIE's attributes the way pahole's DWARF loader (libdw) reads
//! them: which forms count as numbers, how offsets and locations are decoded.

use gimli::{constants as dw, AttributeValue, Reader};

use super::cu::Name;
use super::R;

/// The attributes of a DIE that BTF encoding looks at.
#[derive(Default)]
pub struct Die<'a> {
    pub tag: u16,
    /// Offset in `.debug_info`.
    pub offset: u64,
    pub name: Name<'a>,
    /// `DW_AT_type` as a `.debug_info` offset (None when absent or unresolvable).
    pub type_ref: Option<u64>,
    pub abstract_origin: Option<u64>,
    pub specification: Option<u64>,
    pub byte_size: u64,
    pub encoding: u64,
    pub bit_size: u64,
    pub bit_offset: u64,
    pub data_bit_offset: Option<u64>,
    pub member_location: Option<u64>,
    pub const_value: u64,
    /// `DW_AT_const_value` is present.
    pub has_const_value: bool,
    /// `DW_AT_low_pc` (libdw's `dwarf_lowpc`), 0 when absent.
    pub low_pc: u64,
    pub const_string: Name<'a>,
    /// `DW_AT_upper_bound + 1`, else `DW_AT_count`, else 0 (pahole's `attr_upper_bound`).
    pub nr_entries: u64,
    /// `DW_AT_declaration` is present.
    pub declaration: bool,
    /// `DW_AT_declaration`'s value (pahole reads it as a number for types).
    pub declaration_value: u64,
    pub external: bool,
    /// `DW_AT_artificial` is present.
    pub artificial: bool,
    /// The address of a variable whose location starts with `DW_OP_addr(x)`.
    pub location: Location,
    /// `DW_AT_location` as it is (an expression or a location list).
    pub location_value: Option<AttributeValue<R<'a>>>,
}

/// What the first operation of a `DW_AT_location` says, in pahole's terms.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Location {
    /// No location, or a location list: "optimized out".
    #[default]
    None,
    /// An empty expression, or one that starts with something else.
    Other,
    /// `DW_OP_addr` / `DW_OP_addrx`: a static address.
    Addr(u64),
}

/// A constant-class value as libdw's `dwarf_formudata` gives it.
fn formudata<T: Reader>(v: &AttributeValue<T>) -> Option<u64> {
    Some(match *v {
        AttributeValue::Data1(x) => x as u64,
        AttributeValue::Data2(x) => x as u64,
        AttributeValue::Data4(x) => x as u64,
        AttributeValue::Data8(x) => x,
        AttributeValue::Sdata(x) => x as u64,
        AttributeValue::Udata(x) => x,
        _ => return None,
    })
}

/// pahole's `attr_numeric`: constants, addresses and flags; 0 for other forms.
fn attr_numeric<T: Reader>(v: &AttributeValue<T>) -> u64 {
    match *v {
        AttributeValue::Addr(a) => a,
        AttributeValue::Flag(f) => f as u64,
        _ => formudata(v).unwrap_or(0),
    }
}

/// pahole's `__attr_offset`: a constant, or a block holding
/// `DW_OP_plus_uconst n` / `DW_OP_constu n`.
fn attr_offset<T: Reader>(v: &AttributeValue<T>) -> u64 {
    if let Some(x) = formudata(v) {
        return x;
    }
    let block = match v {
        AttributeValue::Block(b) => b.clone(),
        AttributeValue::Exprloc(e) => e.0.clone(),
        _ => return 0,
    };
    let mut b = block;
    match b.read_u8() {
        Ok(op) if op == dw::DW_OP_plus_uconst.0 || op == dw::DW_OP_constu.0 => {
            b.read_uleb128().unwrap_or(u64::MAX)
        }
        _ => u64::MAX,
    }
}

impl<'a> Die<'a> {
    /// Reads the attributes of `entry`; references become `.debug_info` offsets.
    pub fn read(
        dwarf: &gimli::Dwarf<R<'a>>,
        unit: &gimli::Unit<R<'a>>,
        entry: &gimli::DebuggingInformationEntry<R<'a>>,
    ) -> Die<'a> {
        let header = &unit.header;
        let offset = entry
            .offset()
            .to_debug_info_offset(header)
            .map_or(0, |o| o.0 as u64);
        let mut die = Die {
            tag: entry.tag().0,
            offset,
            ..Die::default()
        };
        let reference = |v: &AttributeValue<R<'a>>| -> Option<u64> {
            match *v {
                AttributeValue::UnitRef(o) => o.to_debug_info_offset(header).map(|o| o.0 as u64),
                AttributeValue::DebugInfoRef(o) => Some(o.0 as u64),
                _ => None,
            }
        };
        let string = |v: &AttributeValue<R<'a>>| -> Name<'a> {
            dwarf.attr_string(unit, *v).ok().map(|s| s.slice())
        };
        let mut upper_bound: Option<Option<u64>> = None;
        let mut count: Option<Option<u64>> = None;
        for attr in entry.attrs() {
            let v = attr.raw_value();
            match attr.name() {
                dw::DW_AT_name => die.name = string(&v),
                dw::DW_AT_type => die.type_ref = reference(&v),
                dw::DW_AT_abstract_origin => die.abstract_origin = reference(&v),
                dw::DW_AT_specification => die.specification = reference(&v),
                dw::DW_AT_byte_size => die.byte_size = attr_numeric(&v),
                dw::DW_AT_encoding => die.encoding = attr_numeric(&v),
                dw::DW_AT_bit_size => die.bit_size = attr_numeric(&v),
                dw::DW_AT_bit_offset => die.bit_offset = attr_numeric(&v),
                dw::DW_AT_data_bit_offset => die.data_bit_offset = Some(attr_offset(&v)),
                dw::DW_AT_data_member_location => die.member_location = Some(attr_offset(&v)),
                dw::DW_AT_low_pc => {
                    die.low_pc = match attr.value() {
                        AttributeValue::Addr(a) => a,
                        v @ AttributeValue::DebugAddrIndex(_) => {
                            dwarf.attr_address(unit, v).ok().flatten().unwrap_or(0)
                        }
                        _ => 0,
                    }
                }
                dw::DW_AT_const_value => {
                    die.has_const_value = true;
                    die.const_value = attr_numeric(&v);
                    die.const_string = string(&v);
                }
                dw::DW_AT_upper_bound => upper_bound = Some(formudata(&v)),
                dw::DW_AT_count => count = Some(formudata(&v)),
                dw::DW_AT_declaration => {
                    die.declaration = true;
                    die.declaration_value = attr_numeric(&v);
                }
                dw::DW_AT_external => die.external = true,
                dw::DW_AT_artificial => die.artificial = true,
                dw::DW_AT_location => {
                    die.location = location(dwarf, unit, &v);
                    die.location_value = Some(attr.value());
                }
                _ => {}
            }
        }
        die.nr_entries = match (upper_bound, count) {
            (Some(ub), _) => ub.map_or(0, |n| n.wrapping_add(1)),
            (None, Some(c)) => c.unwrap_or(0),
            (None, None) => 0,
        };
        die
    }
}

/// The x86-64 argument registers (DWARF numbers: rdi, rsi, rdx, rcx, r8, r9).
pub const X86_64_ARG_REGS: &[u8] = &[5, 4, 1, 2, 8, 9];

/// pahole 1.30's `parameter__reg`: the register a parameter's location
/// names, as the DWARF operation (`DW_OP_reg0 + n`), or -1. Of each
/// location (one expression or each entry of a list) with exactly one
/// operation (a trailing `DW_OP_stack_value` aside), `DW_OP_regN` counts in
/// the first location only and `DW_OP_entry_value` of one operation in
/// any; the expected register ends the search, else the last one seen is
/// returned.
pub fn parameter_register<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &gimli::Unit<R<'a>>,
    value: &AttributeValue<R<'a>>,
    expected: u8,
) -> i32 {
    let encoding = unit.encoding();
    let mut ret = -1;
    // Whether the expected register was found.
    let mut check = |loc_num: usize, expr: R<'a>| -> bool {
        let ops = operations(expr, encoding);
        let mut n = ops.len();
        if n > 1 && ops[n - 1].0 == dw::DW_OP_stack_value.0 {
            n -= 1;
        }
        if n != 1 {
            return false;
        }
        let (atom, entry) = ops[0];
        if (dw::DW_OP_reg0.0..=dw::DW_OP_reg31.0).contains(&atom) {
            if loc_num != 0 {
                return false;
            }
            ret = atom as i32;
        } else if atom == dw::DW_OP_entry_value.0 || atom == dw::DW_OP_GNU_entry_value.0 {
            let Some(sub) = entry else { return false };
            let inner = operations(sub, encoding);
            if inner.len() != 1 {
                return false;
            }
            ret = inner[0].0 as i32;
        } else {
            return false;
        }
        ret == (dw::DW_OP_reg0.0 + expected) as i32
    };
    match value {
        AttributeValue::Exprloc(e) => {
            check(0, e.0);
        }
        AttributeValue::Block(b) => {
            check(0, *b);
        }
        v => {
            let Ok(Some(offset)) = dwarf.attr_locations_offset(unit, *v) else {
                return ret;
            };
            let Ok(mut list) = dwarf.raw_locations(unit, offset) else {
                return ret;
            };
            let mut loc_num = 0;
            while let Ok(Some(entry)) = list.next() {
                use gimli::RawLocListEntry as E;
                let data = match entry {
                    E::AddressOrOffsetPair { data, .. }
                    | E::OffsetPair { data, .. }
                    | E::StartEnd { data, .. }
                    | E::StartLength { data, .. }
                    | E::StartxEndx { data, .. }
                    | E::StartxLength { data, .. }
                    | E::DefaultLocation { data } => data,
                    E::BaseAddress { .. } | E::BaseAddressx { .. } => continue,
                };
                if check(loc_num, data.0) {
                    break;
                }
                loc_num += 1;
            }
        }
    }
    ret
}

/// What pahole 1.32's `parameter__decode_location` finds in a parameter's
/// `DW_AT_location` (only what BTF encoding without true signatures uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamLoc {
    /// The register (`DW_OP_reg0 + n`) holding it, the first one found; -1
    /// when unknown.
    pub reg: i32,
}

fn is_reg(atom: u8) -> bool {
    (dw::DW_OP_reg0.0..=dw::DW_OP_reg31.0).contains(&atom)
}

fn is_breg(atom: u8) -> bool {
    (dw::DW_OP_breg0.0..=dw::DW_OP_breg31.0).contains(&atom)
}

/// pahole 1.32's `parameter__decode_location`: of each location (one
/// expression or each entry of a list), a lone `DW_OP_regN` (first
/// location only), a `DW_OP_bregN` turned into a value by
/// `DW_OP_stack_value` (first location only) or a `DW_OP_entry_value` of
/// one register (any location) names the register; the first named wins.
/// A parameter wider than a register (`byte_size`) takes the first
/// `DW_OP_regN` of any piece of any location.
pub fn parameter_location_132<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &gimli::Unit<R<'a>>,
    value: &AttributeValue<R<'a>>,
    byte_size: u64,
) -> ParamLoc {
    let encoding = unit.encoding();
    let addr_size = encoding.address_size as u64;
    let mut reg = -1i32;
    let mut one = |loc_num: usize, expr: R<'a>| {
        let set = |reg: &mut i32, r: u8| {
            if *reg < 0 {
                *reg = r as i32;
            }
        };
        let ops = operations(expr, encoding);
        let mut n = ops.len();
        if n == 0 {
            return;
        }
        let had_stack_value = ops[n - 1].0 == dw::DW_OP_stack_value.0;
        if n == 2 && had_stack_value {
            n = 1;
        }
        let (atom, entry) = ops[0];
        if n != 1 {
            // parameter__multi_exprs
            if (dw::DW_OP_lit0.0..=dw::DW_OP_lit31.0).contains(&atom)
                || atom == dw::DW_OP_constu.0
                || atom == dw::DW_OP_consts.0
            {
                return;
            }
            if byte_size <= addr_size {
                let stack_value = ops[1..n].iter().any(|o| o.0 == dw::DW_OP_stack_value.0);
                if loc_num == 0 && is_reg(atom) {
                    set(&mut reg, atom);
                } else if loc_num == 0 && is_breg(atom) && stack_value {
                    set(&mut reg, atom - dw::DW_OP_breg0.0 + dw::DW_OP_reg0.0);
                }
                return;
            }
            if let Some(&(a, _)) = ops[..n].iter().find(|o| is_reg(o.0)) {
                set(&mut reg, a);
            }
            return;
        }
        if is_reg(atom) {
            if loc_num == 0 {
                set(&mut reg, atom);
            }
        } else if is_breg(atom) {
            if loc_num == 0 && had_stack_value {
                set(&mut reg, atom - dw::DW_OP_breg0.0 + dw::DW_OP_reg0.0);
            }
        } else if atom == dw::DW_OP_entry_value.0 || atom == dw::DW_OP_GNU_entry_value.0 {
            if let Some(sub) = entry {
                let inner = operations(sub, encoding);
                if inner.len() == 1 && is_reg(inner[0].0) {
                    set(&mut reg, inner[0].0);
                }
            }
        }
    };
    match value {
        AttributeValue::Exprloc(e) => one(0, e.0),
        AttributeValue::Block(b) => one(0, *b),
        v => {
            if let Ok(Some(offset)) = dwarf.attr_locations_offset(unit, *v) {
                if let Ok(mut list) = dwarf.raw_locations(unit, offset) {
                    let mut loc_num = 0;
                    while let Ok(Some(entry)) = list.next() {
                        use gimli::RawLocListEntry as E;
                        let data = match entry {
                            E::AddressOrOffsetPair { data, .. }
                            | E::OffsetPair { data, .. }
                            | E::StartEnd { data, .. }
                            | E::StartLength { data, .. }
                            | E::StartxEndx { data, .. }
                            | E::StartxLength { data, .. }
                            | E::DefaultLocation { data } => data,
                            E::BaseAddress { .. } | E::BaseAddressx { .. } => continue,
                        };
                        one(loc_num, data.0);
                        loc_num += 1;
                    }
                }
            }
        }
    }
    ParamLoc { reg }
}

/// The operations of an expression: each opcode, and the sub-expression of
/// a `DW_OP_entry_value`. Stops at the first it cannot parse.
fn operations<'a>(mut expr: R<'a>, encoding: gimli::Encoding) -> Vec<(u8, Option<R<'a>>)> {
    let mut ops = Vec::new();
    while let Some(&atom) = expr.slice().first() {
        match gimli::Operation::parse(&mut expr, encoding) {
            Ok(gimli::Operation::EntryValue { expression }) => ops.push((atom, Some(expression))),
            Ok(_) => ops.push((atom, None)),
            Err(_) => break,
        }
    }
    ops
}

/// The first operation of a location expression, as pahole's `dwarf__location` sees it.
fn location<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &gimli::Unit<R<'a>>,
    v: &AttributeValue<R<'a>>,
) -> Location {
    let mut expr = match v {
        AttributeValue::Exprloc(e) => e.0,
        AttributeValue::Block(b) => *b,
        _ => return Location::None,
    };
    if expr.is_empty() {
        return Location::Other;
    }
    match gimli::Operation::parse(&mut expr, unit.encoding()) {
        Ok(gimli::Operation::Address { address }) => Location::Addr(address),
        Ok(gimli::Operation::AddressIndex { index }) => {
            Location::Addr(dwarf.address(unit, index).unwrap_or(0))
        }
        _ => Location::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gimli::{EndianSlice, LittleEndian};

    type V<'a> = AttributeValue<EndianSlice<'a, LittleEndian>>;

    #[test]
    fn numbers_read_like_libdw() {
        assert_eq!(
            attr_numeric::<EndianSlice<LittleEndian>>(&V::Data4(0xffff_ffff)),
            0xffff_ffff
        );
        assert_eq!(
            attr_numeric::<EndianSlice<LittleEndian>>(&V::Sdata(-1)),
            u64::MAX
        );
        assert_eq!(attr_numeric::<EndianSlice<LittleEndian>>(&V::Flag(true)), 1);
        let block = V::Block(EndianSlice::new(&[1, 2], LittleEndian));
        assert_eq!(attr_numeric(&block), 0);
    }

    #[test]
    fn member_offsets_from_expressions() {
        let plus = [dw::DW_OP_plus_uconst.0, 0x90, 0x01];
        assert_eq!(
            attr_offset(&V::Exprloc(gimli::Expression(EndianSlice::new(
                &plus,
                LittleEndian
            )))),
            0x90
        );
        let other = [dw::DW_OP_lit1.0];
        assert_eq!(
            attr_offset(&V::Block(EndianSlice::new(&other, LittleEndian))),
            u64::MAX
        );
        assert_eq!(attr_offset::<EndianSlice<LittleEndian>>(&V::Udata(24)), 24);
    }
}
