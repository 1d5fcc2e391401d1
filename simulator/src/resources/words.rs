//! The documented string enums of the sessions pages, declared once each with their JSON words,
//! so rendering and filter validation use the same list.

/// Declares a documented string enum: its variants, their JSON words in the page's order
/// ([`WORDS`](#associatedconstant.WORDS), for the schema's filter validation), and `as_str`.
macro_rules! documented_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every documented value, in the page's order.
            pub const WORDS: &'static [&'static str] = &[$($word),+];

            /// The value as the JSON says it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }
        }
    };
}
