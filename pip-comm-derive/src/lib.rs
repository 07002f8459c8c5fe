//! `#[derive(Equivalence)]` for pip-comm (use it through `pip_comm::Equivalence`, which
//! re-exports it next to the trait of the same name).
//!
//! The derive implements `pip_comm::Equivalence` for a struct whose values are nothing but the
//! bytes of their fields, so that it may travel in a message. It accepts a struct that
//!
//! * is `#[repr(C)]` (or `#[repr(transparent)]`): the Rust layout may reorder fields and add
//!   padding at will, so only a declared layout can be checked;
//! * has fields that are all `Equivalence` themselves (checked by the compiler, field by field);
//! * has no padding: the derive emits a constant assertion that the struct's size equals the sum
//!   of its fields' sizes, which fails the build with a message naming the struct otherwise;
//! * is not generic (a generic struct's padding depends on its parameters; implement the trait
//!   by hand there).
//!
//! The struct must also be `Copy` (the trait requires it), so derive `Clone, Copy` as well.
//!
//! The impl names the trait as `::pip_comm::Equivalence`. A crate that reaches pip-comm under
//! another path (the facade, `pip_rs::pip_comm`) says so with
//! `#[equivalence(crate = "pip_rs::pip_comm")]`.
//! Enums and unions are refused: not every bit pattern is a valid enum, and a union's bytes
//! need not all be initialised.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Error, Fields};

/// Implements `pip_comm::Equivalence` for a `#[repr(C)]` struct of `Equivalence` fields
/// without padding; see the crate documentation.
#[proc_macro_derive(Equivalence, attributes(equivalence))]
pub fn derive_equivalence(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let name = &input.ident;
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(_) => {
            return Err(Error::new_spanned(
                name,
                "#[derive(Equivalence)] is for structs: an enum is not valid for every bit pattern",
            ))
        }
        Data::Union(_) => return Err(Error::new_spanned(
            name,
            "#[derive(Equivalence)] is for structs: a union's bytes need not all be initialised",
        )),
    };
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &input.generics,
            "#[derive(Equivalence)] does not take generic structs (their padding depends on the \
             parameters); implement pip_comm::Equivalence by hand",
        ));
    }
    if !has_declared_layout(input)? {
        return Err(Error::new_spanned(
            name,
            format!(
                "#[derive(Equivalence)] needs #[repr(C)] on `{name}`: the default Rust layout may \
                 reorder fields and add padding"
            ),
        ));
    }
    let types: Vec<&syn::Type> = match fields {
        Fields::Named(f) => f.named.iter().map(|f| &f.ty).collect(),
        Fields::Unnamed(f) => f.unnamed.iter().map(|f| &f.ty).collect(),
        Fields::Unit => Vec::new(),
    };
    let krate = crate_path(input)?;
    let message = syn::LitStr::new(
        &format!(
            "#[derive(Equivalence)]: `{name}` has padding bytes (its size is larger than the sum \
             of its fields' sizes); add explicit padding fields or reorder the fields"
        ),
        Span::call_site(),
    );
    Ok(quote! {
        const _: () = {
            fn each_field_is_equivalence<T: #krate::Equivalence>() {}
            fn check() {
                #( each_field_is_equivalence::<#types>(); )*
            }
            let _ = check;
            assert!(
                ::core::mem::size_of::<#name>() == 0 #( + ::core::mem::size_of::<#types>() )*,
                #message
            );
        };
        // SAFETY: a #[repr(C)] struct whose fields are all `Equivalence` (checked above) and
        // whose size is the sum of theirs (no padding, asserted above) is valid for every bit
        // pattern and has every byte initialised.
        unsafe impl #krate::Equivalence for #name {}
    })
}

/// The path of pip-comm: `::pip_comm`, or what `#[equivalence(crate = "...")]` says.
fn crate_path(input: &DeriveInput) -> syn::Result<syn::Path> {
    let mut path: syn::Path = syn::parse_quote!(::pip_comm);
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("equivalence"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = meta.value()?.parse::<syn::LitStr>()?.parse()?;
                Ok(())
            } else {
                Err(meta.error("expected `crate = \"path::to::pip_comm\"`"))
            }
        })?;
    }
    Ok(path)
}

/// True if the struct has `#[repr(C)]` or `#[repr(transparent)]` (possibly with `align`).
fn has_declared_layout(input: &DeriveInput) -> syn::Result<bool> {
    let mut declared = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") || meta.path.is_ident("transparent") {
                declared = true;
            } else if (meta.path.is_ident("packed") || meta.path.is_ident("align"))
                && meta.input.peek(syn::token::Paren)
            {
                let content;
                syn::parenthesized!(content in meta.input);
                content.parse::<syn::LitInt>()?;
            }
            Ok(())
        })?;
    }
    Ok(declared)
}
