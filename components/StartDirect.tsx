/**
 * Starting a direct chat by username with a plain form (`POST /chat/direct`): it works before
 * or without the chat's script, which otherwise offers the people search.
 */
export function StartDirect() {
  return (
    <form
      method="post"
      action="/chat/direct"
      class="mt-5 flex items-end gap-2"
      data-testid="start-direct"
    >
      <div class="flex-1 text-left">
        <label for="start-direct-username" class="block text-sm font-medium text-slate-700">
          Message someone by username
        </label>
        <input
          id="start-direct-username"
          name="username"
          type="text"
          required
          autocomplete="off"
          placeholder="username"
          class="mt-1 block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm outline-none focus:ring-2 focus:ring-indigo-500"
        />
      </div>
      <button
        type="submit"
        class="min-h-11 rounded-lg border border-slate-300 px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
      >
        Start chat
      </button>
    </form>
  );
}
