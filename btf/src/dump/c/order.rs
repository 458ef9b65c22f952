//! The ordering pass: which named definitions a root needs, dependencies
//! first.
//!
//! The walk returns whether the link it came through is strong (the type
//! must be fully defined before its user) or weak (a forward declaration
//! will do). A link is weak when a pointer is on the path and a named type
//! follows it; otherwise it is strong. Structs, unions, enums, forward
//! declarations and typedefs are marked ordered once done, so each is
//! queued at most once per dump; modifiers, arrays and function prototypes
//! are walked again from every user, since their strength depends on the
//! path. A type found again while its own members are being walked is a
//! cycle: fine through a pointer to a named struct or union, an error
//! otherwise.
//!
//! Before any walk, every type referred to by another is marked: an
//! anonymous enum that nobody refers to is a top-level declaration of
//! constants and is queued, one that a member uses is written inline.

use std::io::{self, Write};

use super::{invalid, is_composite, Dumper, OrderState};
use crate::Kind;

impl<W: Write> Dumper<'_, W> {
    /// Marks the types that other types refer to.
    pub(super) fn mark_referenced(&mut self) -> io::Result<()> {
        for id in 1..self.btf.type_count() {
            let t = self.ty(id)?;
            match t.kind() {
                Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Fwd | Kind::Float => {}
                Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Ptr
                | Kind::Typedef
                | Kind::Func
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => self.state(t.type_id().0)?.referenced = true,
                Kind::Array => {
                    let a = super::array_of(&t)?;
                    self.state(a.index_type.0)?.referenced = true;
                    self.state(a.elem_type.0)?.referenced = true;
                }
                Kind::Struct | Kind::Union => {
                    for m in t.members() {
                        self.state(m.type_id.0)?.referenced = true;
                    }
                }
                Kind::FuncProto => {
                    for p in t.params() {
                        self.state(p.type_id.0)?.referenced = true;
                    }
                }
                Kind::Datasec => {
                    for v in t.datasec_vars() {
                        self.state(v.type_id.0)?.referenced = true;
                    }
                }
                Kind::Unknown(raw) => {
                    return Err(invalid(format!(
                        "type {id} is of kind {raw}, which C output does not know"
                    )))
                }
            }
        }
        Ok(())
    }

    /// Queues what `id` needs and, if it is a named definition, `id`
    /// itself; returns whether the link to it is strong.
    pub(super) fn order_type(&mut self, id: u32, through_ptr: bool) -> io::Result<bool> {
        self.enter(id)?;
        let strong = self.order_type_inner(id, through_ptr);
        self.leave();
        strong
    }

    fn order_type_inner(&mut self, id: u32, through_ptr: bool) -> io::Result<bool> {
        let state = self.state(id)?.order;
        if state == OrderState::Ordered {
            return Ok(true);
        }
        let t = self.ty(id)?;
        let named = t.name_off().0 != 0;
        if state == OrderState::Ordering {
            if is_composite(t.kind()) && through_ptr && named {
                return Ok(false);
            }
            return Err(invalid(format!(
                "type {id} is part of a cycle C cannot write"
            )));
        }
        match t.kind() {
            Kind::Int | Kind::Float => {
                self.state(id)?.order = OrderState::Ordered;
                Ok(false)
            }
            Kind::Ptr => {
                let strong = self.order_type(t.type_id().0, true);
                self.state(id)?.order = OrderState::Ordered;
                strong
            }
            Kind::Array => {
                let a = super::array_of(&t)?;
                self.order_type(a.elem_type.0, false)
            }
            Kind::Struct | Kind::Union => {
                if through_ptr && named {
                    return Ok(false);
                }
                self.state(id)?.order = OrderState::Ordering;
                for m in t.members() {
                    self.order_type(m.type_id.0, false)?;
                }
                if named {
                    self.queue.push(id);
                }
                self.state(id)?.order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                if named || !self.state(id)?.referenced {
                    self.queue.push(id);
                }
                self.state(id)?.order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Typedef => {
                let strong = self.order_type(t.type_id().0, through_ptr)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                self.queue.push(id);
                self.state(id)?.order = OrderState::Ordered;
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.type_id().0, through_ptr)
            }
            Kind::FuncProto => {
                let mut strong = self.order_type(t.type_id().0, through_ptr)?;
                for p in t.params() {
                    if self.order_type(p.type_id.0, through_ptr)? {
                        strong = true;
                    }
                }
                Ok(strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag => {
                self.state(id)?.order = OrderState::Ordered;
                Ok(false)
            }
            Kind::Unknown(raw) => Err(invalid(format!(
                "type {id} is of kind {raw}, which C output does not know"
            ))),
        }
    }
}
