import { initials } from "../client/format.ts";

const COLOURS = [
  "bg-indigo-100 text-indigo-700",
  "bg-emerald-100 text-emerald-700",
  "bg-amber-100 text-amber-800",
  "bg-rose-100 text-rose-800",
  "bg-sky-100 text-sky-700",
  "bg-violet-100 text-violet-700",
];

function colour(seed: string): string {
  let h = 0;
  for (let i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) | 0;
  return COLOURS[Math.abs(h) % COLOURS.length];
}

/**
 * A round avatar: the user's picture when they have one (`url`), else their initials on a
 * colour of their own; `online` adds a presence dot (undefined: no dot at all).
 */
export function Avatar(
  props: {
    name: string;
    seed: string;
    online?: boolean;
    group?: boolean;
    small?: boolean;
    large?: boolean;
    /** A 20 px avatar, beside a name. */
    tiny?: boolean;
    url?: string | null;
  },
) {
  const size = props.large
    ? "h-16 w-16 text-xl"
    : props.tiny
    ? "h-5 w-5 text-[9px]"
    : props.small
    ? "h-8 w-8 text-xs"
    : "h-10 w-10 text-sm";
  const shape = props.group ? "rounded-xl" : "rounded-full";
  return (
    <span class={`relative inline-flex shrink-0 ${size}`} aria-hidden="true">
      {props.url
        ? (
          <img
            src={props.url}
            alt=""
            data-testid="avatar-image"
            class={`h-full w-full object-cover ${shape}`}
          />
        )
        : (
          <span
            data-testid="avatar-initials"
            class={`flex h-full w-full items-center justify-center ${shape} font-semibold ${
              colour(props.seed)
            }`}
          >
            {initials(props.name)}
          </span>
        )}
      {props.online === undefined ? null : (
        <span
          data-testid="presence-dot"
          data-online={String(props.online)}
          class={`absolute -right-0.5 -bottom-0.5 h-3 w-3 rounded-full border-2 border-white ${
            props.online ? "bg-emerald-500" : "bg-slate-300"
          }`}
        />
      )}
    </span>
  );
}
